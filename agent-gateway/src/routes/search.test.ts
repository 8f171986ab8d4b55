import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, addPerson, signupAdmin, startTestServer } from '../test/harness.js'

type Person = { client: Client; member: { id: string } }

describe('GET /api/search', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let ada: Person, bob: Person, cy: Person
  let general: string, secret: string

  const post = async (who: Person, conversationId: string, bodyMd: string) => {
    const res = await who.client.post(`/api/conversations/${conversationId}/messages`, { bodyMd })
    expect(res.status).toBe(201)
    return res.body.message as { id: string }
  }
  const search = (who: Person, query: string) => who.client.get(`/api/search?${query}`)
  const ids = (res: { body: { results: Array<{ messageId: string }> } }) => res.body.results.map((r) => r.messageId)

  beforeAll(async () => {
    server = await startTestServer()
    ada = await signupAdmin(server.url)
    bob = await addPerson(server.url, ada.client, 'bob')
    cy = await addPerson(server.url, ada.client, 'cy')
    general = (await ada.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
    secret = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'secret', isPrivate: true, memberIds: [bob.member.id] })).body.conversation.id
  })
  afterAll(async () => {
    await server.close()
  })

  it('finds words, ranks, prefix-matches the last word and highlights safely', async () => {
    const a = await post(ada, general, 'The deployment of <script>alert(1)</script> went fine')
    const b = await post(bob, general, 'deployment deployment deployment checklist')
    await post(cy, general, 'lunch plans')
    const res = await search(bob, 'q=deploym')
    expect(res.status).toBe(200)
    expect(new Set(ids(res))).toEqual(new Set([a.id, b.id]))
    expect(ids(res)[0]).toBe(b.id) // bm25: more occurrences in a shorter body rank first
    const first = res.body.results.find((r: { messageId: string }) => r.messageId === a.id)
    expect(first).toMatchObject({ conversationId: general, memberId: ada.member.id })
    expect(first.ts).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(first.snippet).toContain('<mark>deployment</mark>')
    expect(first.snippet).toContain('&lt;script&gt;')
    expect(first.snippet).not.toContain('<script>')
    // Each hit's snippet is its own text (a rowid bound as a JS number must still pick the row).
    expect(res.body.results.find((r: { messageId: string }) => r.messageId === b.id).snippet).toContain('checklist')
    // All words must match (AND).
    expect(ids(await search(bob, 'q=deployment%20checklist'))).toEqual([b.id])
  })

  it('never shows a private channel to a non-member, nor to someone who left it', async () => {
    const m = await post(ada, secret, 'quarterly numbers are confidential')
    expect(ids(await search(bob, 'q=confidential'))).toEqual([m.id])
    expect(ids(await search(ada, 'q=confidential'))).toEqual([m.id])
    expect((await search(cy, 'q=confidential')).body.results).toEqual([])
    // Filtering on it directly is the same 404 as a missing conversation.
    expect((await search(cy, `q=confidential&conversationId=${secret}`)).status).toBe(404)

    expect((await bob.client.post(`/api/conversations/${secret}/leave`)).status).toBe(200)
    expect((await search(bob, 'q=confidential')).body.results).toEqual([])
    expect((await search(bob, `q=confidential&conversationId=${secret}`)).status).toBe(404)
  })

  it('filters by conversation and by author (member id or @handle)', async () => {
    const inGeneral = await post(cy, general, 'roadmap review thursday')
    const inRandom = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'random', memberIds: [cy.member.id] })).body.conversation.id
    const inRandomMsg = await post(ada, inRandom, 'roadmap doodles')
    expect(new Set(ids(await search(cy, 'q=roadmap')))).toEqual(new Set([inGeneral.id, inRandomMsg.id]))
    expect(ids(await search(cy, `q=roadmap&conversationId=${general}`))).toEqual([inGeneral.id])
    expect(ids(await search(cy, 'q=roadmap&from=%40ada'))).toEqual([inRandomMsg.id])
    expect(ids(await search(cy, `q=roadmap&from=${cy.member.id}`))).toEqual([inGeneral.id])
    expect((await search(cy, 'q=roadmap&from=%40nobody')).body.results).toEqual([])
    expect(ids(await search(cy, 'q=roadmap&limit=1'))).toHaveLength(1)
    expect(ids(await search(cy, `q=roadmap&conversationId=${inRandom}&from=%40ada`))).toEqual([inRandomMsg.id])
    expect((await search(cy, `q=roadmap&conversationId=${inRandom}&from=%40cy`)).body.results).toEqual([])
  })

  it('searches what people wrote, never the scope tokens the filters use', async () => {
    // The index also holds `in<conversation>` and `by<author>` for each message (migration 0021).
    const scopeWord = `in${general.replace('_', '')}`
    expect((await search(cy, `q=${scopeWord}`)).body.results).toEqual([])
    expect((await search(cy, `q=by${ada.member.id.replace('_', '')}`)).body.results).toEqual([])
    // A body that contains one is found by it, like any word, and only that body.
    const quoting = await post(cy, general, `pasted ${scopeWord} from a log`)
    expect(ids(await search(cy, `q=${scopeWord}`))).toEqual([quoting.id])
    expect(ids(await search(cy, `q=${scopeWord}&conversationId=${general}&from=${cy.member.id}`))).toEqual([quoting.id])
  })

  it('leaves out deleted messages', async () => {
    const m = await post(bob, general, 'ephemeral thought')
    expect(ids(await search(bob, 'q=ephemeral'))).toEqual([m.id])
    await bob.client.delete(`/api/messages/${m.id}`)
    expect((await search(bob, 'q=ephemeral')).body.results).toEqual([])
  })

  it('answers hostile or odd queries with 200 or 400, never 500', async () => {
    const hostile = ['"', '*', 'AND (', 'NEAR', 'NEAR(a b)', 'a OR', '"a" * "b"', 'body:x', '^x', '(((', ')', '-x', 'a"b', '\u0000', "'; DROP TABLE messages; --", '%', 'x'.repeat(500)]
    for (const q of hostile) {
      const res = await search(bob, `q=${encodeURIComponent(q)}`)
      expect([200, 400], q).toContain(res.status)
      if (res.status === 200) expect(Array.isArray(res.body.results)).toBe(true)
    }
    for (const q of ['', 'limit=0', 'q=x&limit=101', 'q=x&limit=abc', `q=${'x'.repeat(501)}`]) {
      expect((await search(bob, q)).status, q).toBe(400)
    }
    expect((await new Client(server.url).get('/api/search?q=x')).status).toBe(401)
  })
})
