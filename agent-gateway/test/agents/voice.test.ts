import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { files } from '@circlechat/db'
import { eq } from 'drizzle-orm'
import { MAX_VOICE_PEAKS } from '@circlechat/model'
import { FakeAgent, botClient, provision, waitFor, world, type Client, type Provisioned, type World } from './helpers.js'

// Voice messages: an upload with a `voice` field ({durationMs, peaks}) bounded by the server,
// posted like any attachment, and shown to agents as `kind: 'voice'` audio they fetch.

/** The first bytes of a WebM file (EBML header, DocType webm), as Chromium's MediaRecorder writes. */
const webm = () => Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, ...Buffer.from('webm'), 0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02, ...Array(400).fill(7)])
/** An Ogg Opus page header, as Firefox records. */
const ogg = () => {
  const b = Buffer.alloc(400, 3)
  b.write('OggS', 0)
  b.write('OpusHead', 28)
  return b
}
const peaks = Array.from({ length: 64 }, (_, i) => (i * 7) % 101)

function uploadVoice(client: Client, bytes: Buffer, voice: unknown, name = 'Voice message.webm') {
  const form = new FormData()
  if (voice !== undefined) form.append('voice', typeof voice === 'string' ? voice : JSON.stringify(voice))
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'audio/webm' }), name)
  return client.request('POST', '/api/uploads', form)
}

describe('voice messages', () => {
  let w: World
  let agent: FakeAgent
  let bot: Provisioned
  const fileCount = () => w.server.gateway.db.select().from(files).all().length

  beforeAll(async () => {
    w = await world()
    agent = await new FakeAgent().start()
    bot = await provision(w.ada.client, { name: 'Scribe', handle: 'scribe', adapter: 'webhook', callbackUrl: agent.url, channelIds: [w.channelId], heartbeatIntervalSec: 86400 })
  })
  afterAll(async () => {
    await w.server.close()
    await agent.close()
  })

  it('stores a recording with its length and waveform, served as audio', async () => {
    const up = await uploadVoice(w.bob.client, webm(), { durationMs: 2150, peaks })
    expect(up.status).toBe(201)
    expect(up.body).toMatchObject({ name: 'Voice message.webm', contentType: 'audio/webm', voice: { durationMs: 2150, peaks } })
    const oggUp = await uploadVoice(w.bob.client, ogg(), { durationMs: 900, peaks: peaks.slice(0, 16) }, 'voice.ogg')
    expect(oggUp.body).toMatchObject({ contentType: 'audio/ogg; codecs=opus', voice: { durationMs: 900 } })
    const served = await fetch(w.server.url + up.body.url, { headers: { cookie: `cc_session=${w.bob.client.cookie}` } })
    expect(served.headers.get('content-type')).toBe('audio/webm')
    // The same bytes without the field are an ordinary file.
    expect((await w.bob.client.upload('/api/uploads', 'clip.webm', new Uint8Array(webm()))).body).not.toHaveProperty('voice')
  })

  it('refuses waveforms that are not bounded peaks, and voice that is not audio, storing nothing', async () => {
    const before = fileCount()
    const bad: unknown[] = [
      { durationMs: 2000, peaks: Array(MAX_VOICE_PEAKS + 1).fill(50) },
      { durationMs: 2000, peaks: Array(4).fill(50) },
      { durationMs: 2000, peaks: peaks.map((p, i) => (i === 3 ? 101 : p)) },
      { durationMs: 2000, peaks: peaks.map((p, i) => (i === 3 ? 0.5 : p)) },
      { durationMs: 2000, peaks: peaks.map((p, i) => (i === 3 ? '9' : p)) },
      { durationMs: 0, peaks },
      { durationMs: 31 * 60_000, peaks },
      { durationMs: 2000, peaks, extra: true },
      { peaks },
      [1, 2, 3],
      'not json',
      JSON.stringify({ durationMs: 2000, peaks: Array(600).fill(100) }) // longer than a form field may be
    ]
    for (const voice of bad) {
      const res = await uploadVoice(w.bob.client, webm(), voice)
      expect(res.status, JSON.stringify(voice)).toBe(400)
      expect(res.body.error).toBe('invalid_voice')
    }
    const png = await uploadVoice(w.bob.client, Buffer.from('just some text, not audio'), { durationMs: 2000, peaks })
    expect(png.status).toBe(400)
    expect(png.body.message).toMatch(/A voice message is audio/)
    expect(fileCount()).toBe(before)
  })

  it('posts as an attachment; an agent sees audio of kind voice with its length, and fetches it', async () => {
    const up = (await uploadVoice(w.bob.client, webm(), { durationMs: 2150, peaks })).body
    const before = agent.packets.length
    const res = await w.bob.client.post(`/api/conversations/${w.channelId}/messages`, { bodyMd: '@scribe listen', attachments: [{ key: up.key }] })
    expect(res.status).toBe(201)
    expect(res.body.message.attachments).toEqual([{ key: up.key, name: up.name, contentType: 'audio/webm', size: up.size, url: up.url, voice: { durationMs: 2150, peaks } }])
    const { packet } = await waitFor(() => agent.packets.slice(before).find((p) => p.packet.trigger === 'mention'), 10_000, 'the mention packet')
    const msg = packet.inbox[0]!.messages.find((m) => m.id === res.body.message.id)!
    expect(msg.attachments).toEqual([{ key: up.key, name: up.name, contentType: 'audio/webm', size: up.size, url: `${w.server.url}${up.url}`, kind: 'voice', durationMs: 2150 }])
    const bytes = await fetch(msg.attachments[0]!.url, { headers: { authorization: `Bearer ${bot.botToken}` } })
    expect(bytes.status).toBe(200)
    expect(Buffer.from(await bytes.arrayBuffer()).equals(webm())).toBe(true)
    // The agent REST API reads it the same way.
    const listed = (await botClient(w.server.url, bot.botToken).get(`/api/agent-api/messages?conversationId=${w.channelId}`)).body.messages as Array<{ id: string; attachments: unknown[] }>
    expect(listed.find((m) => m.id === res.body.message.id)!.attachments).toEqual([expect.objectContaining({ kind: 'voice', durationMs: 2150 })])
    expect(w.server.gateway.db.select().from(files).where(eq(files.key, up.key)).get()!.voice).toEqual({ durationMs: 2150, peaks })
  })
})
