import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dirMembersOf, dirWorkspaceOf, docName } from '@circlechat/model'
import { Client, PASSWORD, addPerson, startTeam, type Team } from '../test/harness.js'
import { syncClient, whenSynced } from '../test/sync-client.js'

/** A 1×1 PNG: the icon upload. */
const PNG = Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'))

/** The admin settings page's API: every action, and its refusal for a non-admin. */
describe('admin routes', () => {
  let server: Team['server']
  let ada: Team['ada']
  let bob: Team['bob']
  let cy: Team['cy']

  beforeAll(async () => {
    ;({ server, ada, bob, cy } = await startTeam())
  })
  afterAll(async () => {
    await server?.close()
  })

  const dir = () => server.gateway.sync.getDoc(docName.dir(ada.workspace.id))

  it('refuses every admin action to a member', async () => {
    const calls: Array<[string, string, unknown?]> = [
      ['PATCH', '/api/admin/workspace', { name: 'Mine now' }],
      ['GET', '/api/admin/invites'],
      ['POST', '/api/admin/invites', { role: 'member' }],
      ['POST', '/api/admin/invites/abc/revoke', {}],
      ['GET', '/api/admin/audit'],
      ['PATCH', `/api/members/${cy.member.id}`, { role: 'admin' }],
      ['PATCH', `/api/members/${cy.member.id}`, { reportsTo: bob.member.id }],
      ['POST', `/api/members/${cy.member.id}/deactivate`, {}],
      ['POST', `/api/members/${cy.member.id}/reactivate`, {}]
    ]
    for (const [method, path, body] of calls) {
      const res = await bob.client.request(method, path, body)
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body.error).toBe('admin_only')
    }
    expect((await bob.client.get('/api/members?all=1')).status).toBe(400)
    expect((await new Client(server.url).get('/api/admin/audit')).status).toBe(401)
  })

  it('renames the workspace and sets an image icon every member can load, live in the directory', async () => {
    const up = await ada.client.upload('/api/uploads', 'logo.png', PNG, 'image/png')
    expect(up.status).toBe(201)
    const res = await ada.client.patch('/api/admin/workspace', { name: '  Acme Labs ', icon: up.body.key })
    expect(res.status).toBe(200)
    expect(res.body.workspace).toMatchObject({ name: 'Acme Labs', icon: `/files/${up.body.key}` })
    expect(dirWorkspaceOf(await dir()).get('name')).toBe('Acme Labs')
    expect(dirWorkspaceOf(await dir()).get('icon')).toBe(`/files/${up.body.key}`)
    expect((await bob.client.get(`/files/${up.body.key}`)).status).toBe(200)
    expect((await bob.client.get('/api/me')).body.workspace).toMatchObject({ name: 'Acme Labs', icon: `/files/${up.body.key}` })

    const text = await ada.client.upload('/api/uploads', 'notes.txt', 'hello', 'text/plain')
    const refused = await ada.client.patch('/api/admin/workspace', { icon: text.body.key })
    expect(refused.status).toBe(400)
    expect(refused.body.error).toBe('icon_not_image')
    const theirs = await bob.client.upload('/api/uploads', 'b.png', PNG, 'image/png')
    expect((await ada.client.patch('/api/admin/workspace', { icon: theirs.body.key })).status).toBe(404)
    expect((await ada.client.patch('/api/admin/workspace', { name: '' })).status).toBe(400)

    expect((await ada.client.patch('/api/admin/workspace', { icon: null })).body.workspace.icon).toBeNull()
    expect(dirWorkspaceOf(await dir()).get('icon')).toBe('')
  })

  it('changes roles (not one’s own), live in the directory', async () => {
    const res = await ada.client.patch(`/api/members/${cy.member.id}`, { role: 'guest' })
    expect(res.status).toBe(200)
    expect(res.body.member.role).toBe('guest')
    expect(dirMembersOf(await dir()).get(cy.member.id)?.role).toBe('guest')
    expect((await cy.client.get('/api/me')).body.member.role).toBe('guest')
    const own = await ada.client.patch(`/api/members/${ada.member.id}`, { role: 'member' })
    expect(own.status).toBe(400)
    expect(own.body.error).toBe('cannot_change_own_role')
    expect((await ada.client.patch(`/api/members/${cy.member.id}`, { role: 'owner' })).status).toBe(400)
    expect((await ada.client.patch(`/api/members/m_nobody00000000`, { role: 'member' })).status).toBe(404)
    expect((await ada.client.patch(`/api/members/${cy.member.id}`, { role: 'member' })).body.member.role).toBe('member')
  })

  it('edits the org chart and refuses loops', async () => {
    expect((await ada.client.patch(`/api/members/${bob.member.id}`, { reportsTo: ada.member.id })).body.member.reportsTo).toBe(ada.member.id)
    expect((await ada.client.patch(`/api/members/${cy.member.id}`, { reportsTo: bob.member.id })).status).toBe(200)
    expect(dirMembersOf(await dir()).get(cy.member.id)?.reportsTo).toBe(bob.member.id)
    const loop = await ada.client.patch(`/api/members/${ada.member.id}`, { reportsTo: cy.member.id })
    expect(loop.status).toBe(409)
    expect(loop.body.error).toBe('org_cycle')
    expect((await ada.client.patch(`/api/members/${bob.member.id}`, { reportsTo: bob.member.id })).body.error).toBe('org_cycle')
    expect((await ada.client.patch(`/api/members/${bob.member.id}`, { reportsTo: 'm_nobody00000000' })).body.error).toBe('unknown_member')
    expect((await ada.client.patch(`/api/members/${cy.member.id}`, { reportsTo: null })).body.member.reportsTo).toBeNull()
  })

  it('puts agents in the same org chart, through either route, without loops; agents are never admins', async () => {
    const made = await ada.client.post('/api/agents', { name: 'Scout', handle: 'scout', adapter: 'peer' })
    expect(made.status).toBe(201)
    const scout = made.body.agent.memberId as string
    expect((await ada.client.patch(`/api/members/${scout}`, { reportsTo: bob.member.id })).body.member.reportsTo).toBe(bob.member.id)
    expect(dirMembersOf(await dir()).get(scout)?.reportsTo).toBe(bob.member.id)
    // bob → ada already; ada reporting to the agent would close the loop, from the agents route too.
    expect((await ada.client.patch(`/api/members/${ada.member.id}`, { reportsTo: scout })).body.error).toBe('org_cycle')
    expect((await ada.client.patch(`/api/members/${bob.member.id}`, { reportsTo: scout })).body.error).toBe('org_cycle')
    expect((await ada.client.patch(`/api/members/${scout}`, { role: 'admin' })).body.error).toBe('agent_not_admin')
    expect((await ada.client.patch(`/api/members/${scout}`, { role: 'guest' })).body.member.role).toBe('guest')
    const viaAgents = await ada.client.patch(`/api/agents/${made.body.agent.id}`, { reportsTo: cy.member.id })
    expect(viaAgents.status).toBe(200)
    expect((await ada.client.patch(`/api/members/${cy.member.id}`, { reportsTo: scout })).body.error).toBe('org_cycle')
  })

  it('deactivation closes an open socket within a second and ends the session; messages stay; reactivation lets them back', async () => {
    const dan = await addPerson(server.url, ada.client, 'dan')
    const general = (await dan.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general')
    const posted = await dan.client.post(`/api/conversations/${general.id}/messages`, { bodyMd: 'still here after I go' })
    expect(posted.status).toBe(201)
    const provider = syncClient(server.url, dan.client.cookie!, docName.me(dan.member.id))
    await whenSynced(provider)
    const closed = new Promise<{ code: number; ms: number }>((resolve) => {
      const started = Date.now()
      provider.ws!.addEventListener('close', (e) => resolve({ code: (e as CloseEvent).code, ms: Date.now() - started }))
    })
    const res = await ada.client.post(`/api/members/${dan.member.id}/deactivate`)
    expect(res.status).toBe(200)
    const { code, ms } = await closed
    provider.destroy()
    expect(code).toBe(4401)
    expect(ms).toBeLessThan(1000)
    expect((await dan.client.get('/api/me')).status).toBe(401)
    const login = await new Client(server.url).post('/api/auth/login', { email: 'dan@example.com', password: PASSWORD })
    expect(login.status).toBe(401)
    const history = await ada.client.get(`/api/conversations/${general.id}/messages`)
    expect(history.body.messages.some((m: { bodyMd: string; memberId: string }) => m.bodyMd === 'still here after I go' && m.memberId === dan.member.id)).toBe(true)
    const all = await ada.client.get('/api/members?all=1')
    expect(all.body.members.find((m: { id: string }) => m.id === dan.member.id)).toMatchObject({ deactivated: true })
    expect((await ada.client.get('/api/members')).body.members.some((m: { id: string }) => m.id === dan.member.id)).toBe(false)

    expect((await ada.client.post(`/api/members/${ada.member.id}/deactivate`)).body.error).toBe('cannot_deactivate_self')
    expect((await ada.client.post(`/api/members/${dan.member.id}/reactivate`)).status).toBe(200)
    expect(dirMembersOf(await dir()).get(dan.member.id)?.deactivated).toBe(false)
    const back = new Client(server.url)
    expect((await back.post('/api/auth/login', { email: 'dan@example.com', password: PASSWORD })).status).toBe(200)
  })

  it('creates, lists and revokes invite links; a revoked or expired link says so', async () => {
    const link = await ada.client.post('/api/admin/invites', { role: 'member', expiresInHours: 48 })
    expect(link.status).toBe(201)
    expect(link.body.url).toMatch(/\/invite\/[A-Za-z0-9_-]+$/)
    expect(link.body.invite).toMatchObject({ kind: 'link', role: 'member', status: 'active', uses: 0 })
    // A link takes several sign-ups, any address.
    for (const h of ['eve', 'fay']) {
      const c = new Client(server.url)
      expect((await c.get(`/api/auth/invite/${link.body.token}`)).body).toMatchObject({ email: '', role: 'member' })
      const res = await c.post('/api/auth/accept-invite', { token: link.body.token, email: `${h}@example.com`, name: h, handle: h, password: PASSWORD })
      expect(res.status).toBe(201)
      expect(res.body.member.role).toBe('member')
    }
    const listed = await ada.client.get('/api/admin/invites')
    expect(listed.body.invites.find((i: { id: string }) => i.id === link.body.invite.id)).toMatchObject({ uses: 2, status: 'active' })
    expect(JSON.stringify(listed.body)).not.toContain(link.body.token)

    const revoked = await ada.client.post(`/api/admin/invites/${link.body.invite.id}/revoke`)
    expect(revoked.body.invite.status).toBe('revoked')
    const look = await new Client(server.url).get(`/api/auth/invite/${link.body.token}`)
    expect(look.status).toBe(410)
    expect(look.body).toMatchObject({ error: 'invite_revoked' })
    expect(look.body.message).toMatch(/revoked/)
    const late = await new Client(server.url).post('/api/auth/accept-invite', { token: link.body.token, email: 'gus@example.com', name: 'gus', handle: 'gus', password: PASSWORD })
    expect(late.status).toBe(410)

    const old = await ada.client.post('/api/admin/invites', { role: 'member', expiresInHours: 1 })
    server.gateway.db.$client.prepare('UPDATE invites SET expires_at = ? WHERE token_hash = ?').run(Date.now() - 1000, old.body.invite.id)
    const expired = await new Client(server.url).get(`/api/auth/invite/${old.body.token}`)
    expect(expired.status).toBe(410)
    expect(expired.body.error).toBe('invite_expired')
    expect(expired.body.message).toMatch(/expired/)

    expect((await ada.client.post('/api/admin/invites', { role: 'guest' })).body.error).toBe('guest_needs_channels')
    expect((await ada.client.post('/api/admin/invites', { role: 'guest', channelIds: ['c_nothere00000000'] })).body.error).toBe('unknown_channel')
    expect((await ada.client.post('/api/admin/invites', { role: 'admin' })).status).toBe(400)
    expect((await ada.client.post('/api/admin/invites', { expiresInHours: 24 * 31 })).status).toBe(400)
    expect((await ada.client.post('/api/admin/invites/nope/revoke')).status).toBe(404)
  })

  it('lists admin actions newest first, paged', async () => {
    const first = await ada.client.get('/api/admin/audit?limit=3')
    expect(first.status).toBe(200)
    expect(first.body.entries).toHaveLength(3)
    expect(first.body.entries[0]).toMatchObject({ action: 'invite.create', actorId: ada.member.id, targetKind: 'invite' })
    expect(first.body.next).toEqual(expect.any(Number))
    const all: Array<{ action: string; id: number }> = []
    let before: number | null = null
    do {
      const page: { body: { entries: Array<{ action: string; id: number }>; next: number | null } } = await ada.client.get(`/api/admin/audit?limit=4${before ? `&before=${before}` : ''}`)
      all.push(...page.body.entries)
      before = page.body.next
    } while (before)
    const actions = all.map((e) => e.action)
    for (const a of ['workspace.update', 'member.role', 'member.reports_to', 'member.deactivate', 'member.reactivate', 'invite.create', 'invite.revoke']) expect(actions).toContain(a)
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => b - a))
    const role = all.find((e) => e.action === 'member.role' && (e as unknown as { targetId: string }).targetId === cy.member.id) as unknown as { detail: { from: string; to: string } }
    expect(role.detail).toMatchObject({ from: 'guest', to: 'member' })
    expect(all.filter((e) => e.action === 'member.reports_to').length).toBeGreaterThanOrEqual(5) // the agents route's edit too
  })
})
