import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { FakeAgent, provision, waitFor, world, type World, messagesOf, addPerson } from './agents/helpers.js'

/**
 * Mail into channels, end to end: a real SMTP listener on loopback, mail sent with nodemailer,
 * read back over REST. The listener refuses unknown, turned-off and rotated addresses at RCPT TO.
 */

const DOMAIN = 'in.example.test'
const MAX_BYTES = 200_000

let w: World
let agent: FakeAgent
let address: string

function transport() {
  return nodemailer.createTransport({ host: '127.0.0.1', port: w.server.inboundPort!, secure: false, ignoreTLS: true, tls: { rejectUnauthorized: false } })
}

async function send(to: string, mail: Partial<nodemailer.SendMailOptions> & { from?: string }) {
  const t = transport()
  try {
    return await t.sendMail({ from: 'Grace Hopper <grace@sender.example>', to, subject: 'Hello', text: 'hi', ...mail })
  } finally {
    t.close()
  }
}

/** The SMTP error a refused send ends with (nodemailer puts the server's code on it). */
async function refusal(to: string, mail: Partial<nodemailer.SendMailOptions> = {}): Promise<{ responseCode?: number; response?: string; command?: string }> {
  try {
    await send(to, mail)
  } catch (err) {
    return err as { responseCode?: number; response?: string; command?: string }
  }
  throw new Error(`mail to ${to} was accepted`)
}

beforeAll(async () => {
  w = await world({ smtpInboundPort: 0, inboundDomain: DOMAIN, inbound: { maxBytes: MAX_BYTES, senderBurst: 50, channelBurst: 50 } })
  agent = await new FakeAgent().start()
  await provision(w.ada.client, { name: 'Bot', handle: 'bot', adapter: 'webhook', callbackUrl: agent.url, channelIds: [w.channelId], reportsTo: w.ada.member.id })
  const res = await w.ada.client.post(`/api/conversations/${w.channelId}/inbound-email`, {})
  expect(res.status).toBe(200)
  address = res.body.inboundEmail.address
})

afterAll(async () => {
  await agent?.close()
  await w?.server.close()
})

describe('inbound email', () => {
  it('gives a channel an address only its managers see', async () => {
    expect(address).toMatch(new RegExp(`^team\\+[a-z2-7]{26}@${DOMAIN.replace(/\./g, '\\.')}$`))
    const bob = await w.bob.client.get(`/api/conversations/${w.channelId}/inbound-email`)
    expect(bob.status).toBe(403)
    expect((await w.bob.client.post(`/api/conversations/${w.channelId}/inbound-email`, { rotate: true })).status).toBe(403)
    const again = await w.ada.client.get(`/api/conversations/${w.channelId}/inbound-email`)
    expect(again.body.inboundEmail).toMatchObject({ enabled: true, address, listening: true })
  })

  it('posts a mail with its attachment, which downloads, and wakes the channel agent', async () => {
    const before = agent.packets.length
    const info = await send(address, {
      subject: 'Quarterly numbers',
      text: 'Numbers attached.\n\n@everyone please read',
      attachments: [{ filename: 'numbers.csv', content: 'q,revenue\n1,100\n', contentType: 'text/csv' }],
      headers: { 'Authentication-Results': `${DOMAIN}; spf=pass smtp.mailfrom=sender.example; dkim=pass header.d=sender.example; dmarc=pass` }
    })
    expect(info.accepted).toEqual([address])
    const msg = await waitFor(async () => (await messagesOf(w.ada.client, w.channelId)).find((m) => m.bodyMd.includes('Quarterly numbers')), 10_000, 'the mail')
    expect(msg.bodyMd).toContain('Numbers attached.')
    expect(msg.bodyMd).toContain('grace@sender.example')
    expect(msg.card).toMatchObject({ kind: 'email', from: 'grace@sender.example', fromName: 'Grace Hopper', subject: 'Quarterly numbers', auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass' } })
    // An outsider cannot @everyone the channel.
    expect((msg as unknown as { mentions: string[] }).mentions).toEqual([])
    const author = (await w.ada.client.get(`/api/members`)).body.members.find((m: { id: string }) => m.id === msg.memberId)
    expect(author).toMatchObject({ kind: 'bot', name: 'Email' })
    const [file] = (msg as unknown as { attachments: Array<{ name: string; url: string }> }).attachments
    expect(file!.name).toBe('numbers.csv')
    // Bob, a channel member, downloads it through the ordinary file route.
    const dl = await w.bob.client.get(file!.url)
    expect(dl.status).toBe(200)
    expect(dl.body).toBe('q,revenue\n1,100\n')
    const packet = await waitFor(() => agent.packets.slice(before).find((p) => p.packet.trigger === 'channel_post'), 10_000, 'the agent wake')
    expect(packet.packet.triggerConversationId).toBe(w.channelId)
  })

  it('believes only our own host\'s Authentication-Results', async () => {
    await send(address, { subject: 'Forged results', headers: { 'Authentication-Results': 'evil.example; spf=pass; dkim=pass' } })
    const msg = await waitFor(async () => (await messagesOf(w.ada.client, w.channelId)).find((m) => m.bodyMd.includes('Forged results')), 10_000, 'the mail')
    expect((msg.card as { auth?: unknown }).auth).toBeUndefined()
  })

  it('sanitises HTML-only mail: no script, no remote image', async () => {
    await send(address, {
      subject: 'Newsletter', text: undefined,
      html: '<h2>Big news</h2><p>Read <a href="https://example.org/post">the post</a>.<script>alert(1)</script></p><img src="https://tracker.example/pixel.gif"><p onclick="x()">bye</p>'
    })
    const msg = await waitFor(async () => (await messagesOf(w.ada.client, w.channelId)).find((m) => m.bodyMd.includes('Newsletter')), 10_000, 'the mail')
    expect(msg.bodyMd).toContain('## Big news')
    expect(msg.bodyMd).toContain('[the post](https://example.org/post)')
    expect(msg.bodyMd).toContain('bye')
    expect(msg.bodyMd).not.toMatch(/alert|script|tracker\.example|pixel|onclick/)
  })

  it('refuses unknown addresses and other domains at RCPT TO', async () => {
    const unknown = await refusal(`team+${'a'.repeat(26)}@${DOMAIN}`)
    expect(unknown.responseCode).toBe(550)
    expect(unknown.command).toBe('RCPT TO')
    expect((await refusal(address.replace(DOMAIN, 'elsewhere.example'))).responseCode).toBe(550)
  })

  it('refuses an oversize mail', async () => {
    const err = await refusal(address, { subject: 'Too big', attachments: [{ filename: 'big.bin', content: Buffer.alloc(MAX_BYTES, 7) }] })
    expect(err.responseCode).toBe(552)
    const all = await messagesOf(w.ada.client, w.channelId)
    expect(all.some((m) => m.bodyMd.includes('Too big'))).toBe(false)
  })

  it('refuses a turned-off address at RCPT TO, and takes it again when turned back on', async () => {
    expect((await w.ada.client.delete(`/api/conversations/${w.channelId}/inbound-email`)).body.inboundEmail.enabled).toBe(false)
    const off = await refusal(address)
    expect(off.responseCode).toBe(550)
    expect(off.command).toBe('RCPT TO')
    const on = await w.ada.client.post(`/api/conversations/${w.channelId}/inbound-email`, {})
    expect(on.body.inboundEmail.address).toBe(address)
    expect((await send(address, { subject: 'Back on' })).accepted).toEqual([address])
  })

  it('refuses the old address at once after a rotation', async () => {
    const rotated = await w.ada.client.post(`/api/conversations/${w.channelId}/inbound-email`, { rotate: true })
    const fresh = rotated.body.inboundEmail.address as string
    expect(fresh).not.toBe(address)
    const old = await refusal(address)
    expect(old.responseCode).toBe(550)
    expect(old.command).toBe('RCPT TO')
    expect((await send(fresh, { subject: 'New address' })).accepted).toEqual([fresh])
    address = fresh
  })

  it('limits mail per sender and per channel', async () => {
    // A second server with small buckets, so the limits show in a few sends.
    const small = await world({ smtpInboundPort: 0, inboundDomain: DOMAIN, inbound: { maxBytes: MAX_BYTES, senderBurst: 2, senderIntervalMs: 3_600_000, channelBurst: 3, channelIntervalMs: 3_600_000 } })
    const main = w
    w = small
    try {
      const to = (await small.ada.client.post(`/api/conversations/${small.channelId}/inbound-email`, {})).body.inboundEmail.address as string
      await send(to, { from: 'a@sender.example', subject: 'one' })
      await send(to, { from: 'a@sender.example', subject: 'two' })
      const limited = await refusal(to, { from: 'a@sender.example', subject: 'three' })
      expect(limited.responseCode).toBe(450)
      expect(limited.command).toBe('MAIL FROM')
      // Another sender still gets in, until the channel's own bucket is empty.
      await send(to, { from: 'b@sender.example', subject: 'four' })
      const full = await refusal(to, { from: 'c@sender.example', subject: 'five' })
      expect(full.responseCode).toBe(450)
      expect(full.command).toBe('RCPT TO')
      const subjects = (await messagesOf(small.ada.client, small.channelId)).map((m) => m.bodyMd.split('\n')[0])
      expect(subjects.filter((s) => /\*\*(one|two|four)\*\*/.test(s ?? ''))).toHaveLength(3)
    } finally {
      w = main
      await small.server.close()
    }
  })

  it('refuses mail for good once the Email member was removed, and takes it again when turned back on', async () => {
    const { memberId } = (await w.ada.client.get(`/api/conversations/${w.channelId}/inbound-email`)).body.inboundEmail
    expect((await w.ada.client.delete(`/api/conversations/${w.channelId}/members/${memberId}`)).status).toBe(200)
    expect((await refusal(address, { subject: 'Nobody home' })).responseCode).toBe(550)
    await w.ada.client.post(`/api/conversations/${w.channelId}/inbound-email`, {})
    expect((await send(address, { subject: 'Home again' })).accepted).toEqual([address])
  })

  it('lets a workspace admin who is not the creator manage the address, but not a plain member', async () => {
    const grace = await addPerson(w.server.url, w.ada.client, 'grace', 'admin')
    await w.ada.client.post(`/api/conversations/${w.channelId}/members`, { memberIds: [grace.member.id] })
    expect((await grace.client.get(`/api/conversations/${w.channelId}/inbound-email`)).status).toBe(200)
    expect((await w.bob.client.delete(`/api/conversations/${w.channelId}/inbound-email`)).status).toBe(403)
  })

  it('posts a mail to several channels once in each, when the sender retries after one failed', async () => {
    const ops = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'ops' })).body.conversation.id as string
    const opsMail = (await w.ada.client.post(`/api/conversations/${ops}/inbound-email`, {})).body.inboundEmail as { address: string; memberId: string }
    // #ops cannot take it this time: its Email member is deactivated (a failure worth a retry).
    expect((await w.ada.client.post(`/api/members/${opsMail.memberId}/deactivate`, {})).status).toBe(200)
    const mail = { to: [address, opsMail.address], subject: 'Outage report', messageId: '<outage-1@sender.example>' }
    const failed = await refusal(mail.to.join(', '), mail)
    expect(failed.responseCode).toBe(451)
    const count = async (conv: string) => (await messagesOf(w.ada.client, conv)).filter((m) => m.bodyMd.includes('Outage report')).length
    expect(await count(w.channelId)).toBe(1)
    expect(await count(ops)).toBe(0)
    // The retry (same Message-ID) fills #ops in and leaves #team as it was.
    expect((await w.ada.client.post(`/api/members/${opsMail.memberId}/reactivate`, {})).status).toBe(200)
    expect((await send(mail.to.join(', '), mail)).accepted).toEqual(mail.to)
    expect(await count(ops)).toBe(1)
    expect(await count(w.channelId)).toBe(1)
    // Sent once more, it is still one message in each: the sender's copy, not a new mail.
    await send(mail.to.join(', '), mail)
    expect([await count(w.channelId), await count(ops)]).toEqual([1, 1])
    // A new Message-ID is a new mail.
    await send(address, { subject: 'Outage report', messageId: '<outage-2@sender.example>' })
    expect(await count(w.channelId)).toBe(2)
  })

  it('tells mails without a Message-ID apart by their bytes', async () => {
    const raw = (n: number) => `From: grace@sender.example\r\nTo: ${address}\r\nSubject: No id ${n}\r\n\r\nbody ${n}\r\n`
    const sendRaw = (n: number) => send(address, { envelope: { from: 'grace@sender.example', to: [address] }, raw: raw(n) })
    await sendRaw(1)
    await sendRaw(1)
    await sendRaw(2)
    const subjects = (await messagesOf(w.ada.client, w.channelId)).map((m) => m.bodyMd.split('\n')[0]?.trim()).filter((s) => s?.includes('No id'))
    expect(subjects).toEqual(['**No id 1**', '**No id 2**'])
  })
})
