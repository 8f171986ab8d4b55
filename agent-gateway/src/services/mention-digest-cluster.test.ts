import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { users } from '@circlechat/db'
import { docName } from '@circlechat/model'
import { startServer, type RunningServer } from '../server.js'
import { addPerson, signupAdmin } from '../test/harness.js'
import { startSmtpSink, type SinkMail } from '../test/smtp-sink.js'
import { syncClient, whenSynced } from '../test/sync-client.js'
import { redisScratch, REDIS_URL } from '../../../sync-server/test/cluster-setup.js'
import { runDigestPass } from './mention-digest.js'

type Person = Awaited<ReturnType<typeof addPerson>>

/**
 * Two gateway processes (two servers in this process) on one SQLite file, one Redis and one
 * SMTP server, with CLUSTER=redis: the mention digest skips whoever is connected to either
 * process, and a digest is mailed once however many processes pass (services/digest-share.ts).
 */
describe('mention digests across processes', () => {
  const redis = redisScratch()
  let sink: Awaited<ReturnType<typeof startSmtpSink>>
  let dataDir: string
  let a: RunningServer, b: RunningServer
  let ada: Awaited<ReturnType<typeof signupAdmin>>, general: string
  // The periodic pass never fires by itself here (a day apart): each test drives both.
  const start = () => startServer({
    dataDir, port: 0, host: '127.0.0.1', webRoot: null, redisUrl: REDIS_URL, redisPrefix: redis.prefix, cluster: 'redis',
    smtp: { url: sink.url }, mentionDigest: { everyMs: 24 * 60 * 60_000 }
  })
  const options = { everyMs: 1, delayMs: 0, batch: 10, perMail: 5 }
  /** Opted in, last seen and last mailed long ago, then mentioned through A. */
  const awayAndMentioned = async (who: Person, email: string) => {
    expect((await who.client.patch('/api/profile', { mentionDigest: true })).status).toBe(200)
    a.gateway.db.$client.prepare('UPDATE sessions SET last_seen_at = 1 WHERE user_id = (SELECT user_id FROM members WHERE id = ?)').run(who.member.id)
    a.gateway.db.update(users).set({ digestThrough: 1 }).where(eq(users.email, email)).run()
    expect((await ada.client.post(`/api/conversations/${general}/messages`, { bodyMd: `news for @${email.split('@')[0]}` })).status).toBe(201)
  }
  const digestTo = (email: string) => (m: SinkMail) => m.to.includes(email) && /mention/.test(m.subject)

  beforeAll(async () => {
    sink = await startSmtpSink()
    dataDir = await mkdtemp(join(tmpdir(), 'cc-digest-cluster-'))
    a = await start()
    b = await start()
    ada = await signupAdmin(a.url)
    general = (await ada.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
    await sink?.close()
    await redis.cleanup()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('does not mail a member connected to the other process', async () => {
    const bob = await addPerson(a.url, ada.client, 'bob')
    const tab = syncClient(b.url, bob.client.cookie!, docName.dir(ada.workspace.id))
    try {
      await whenSynced(tab)
      await awayAndMentioned(bob, 'bob@example.com') // the socket's upgrade no longer counts as seen
      await b.gateway.digestShare!.publish() // B's periodic renewal
      expect(a.gateway.sync.connectedMembers().has(bob.member.id)).toBe(false)
      expect(await runDigestPass(a.gateway, options, Date.now() + 1000)).toBe(0)
      expect(await runDigestPass(b.gateway, options, Date.now() + 1000)).toBe(0)
      expect(sink.mails.filter(digestTo('bob@example.com'))).toEqual([])
    } finally {
      tab.destroy()
    }
  })

  it('mails an away member one digest though both processes pass', async () => {
    const cy = await addPerson(a.url, ada.client, 'cy')
    await awayAndMentioned(cy, 'cy@example.com')
    const now = Date.now() + 1000
    // At once: one of them holds the pass lock, the other passes without mailing.
    const [onA, onB] = await Promise.all([runDigestPass(a.gateway, options, now), runDigestPass(b.gateway, options, now)])
    expect(onA + onB).toBe(1)
    // One after the other: the second reads the first one's covered mark.
    expect(await runDigestPass(a.gateway, options, now)).toBe(0)
    expect(await runDigestPass(b.gateway, options, now)).toBe(0)
    const mail = await sink.next(digestTo('cy@example.com'))
    expect(mail.text).toContain('news for @cy')
    await new Promise((r) => setTimeout(r, 300)) // a second mail, were there one, would have landed
    expect(sink.mails.filter(digestTo('cy@example.com'))).toHaveLength(1)
  })

  it('holds the pass lock in one process at a time, and never renews or frees one taken since', async () => {
    const [onA, onB] = [a.gateway.digestShare!, b.gateway.digestShare!]
    expect(await onA.lock()).toBe(true)
    expect(await onB.lock()).toBe(false)
    expect(await runDigestPass(b.gateway, options)).toBe(0) // B skips its pass meanwhile
    expect(await onA.stillLocked()).toBe(true)
    // A's lock expired and another process took it: A stops mailing and leaves it alone.
    const r = redis.connect()
    await r.set(`${redis.prefix}digest-pass`, 'another process', 'PX', 60_000)
    expect(await onA.stillLocked()).toBe(false)
    await onA.unlock()
    expect(await r.get(`${redis.prefix}digest-pass`)).toBe('another process')
    await r.del(`${redis.prefix}digest-pass`)
    expect(await onB.lock()).toBe(true)
    await onB.unlock()
  })
})
