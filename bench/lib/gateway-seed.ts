// Seeds a running gateway for benchmarks: one admin signed up over HTTP (workspace, #general),
// then more people written straight to SQLite with live sessions: 200 argon2 sign-ups would
// take longer than the thing being measured.
import { insertAccount } from '../../agent-gateway/src/services/accounts.js'
import { createSession } from '../../agent-gateway/src/auth/sessions.js'
import { insertConversation } from '../../agent-gateway/src/services/conversation-store.js'
import type { RunningServer } from '../../agent-gateway/src/server.js'

export interface SeededMember { id: string; handle: string; cookie: string }

export async function seedPeople(server: RunningServer, count: number): Promise<{ workspaceId: string; members: SeededMember[] }> {
  const res = await fetch(`${server.url}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email: 'admin@bench.test', password: 'bench password 1', name: 'Admin', handle: 'admin', workspaceName: 'Bench' })
  })
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`)
  const body = (await res.json()) as { member: { id: string }; workspace: { id: string } }
  const cookie = /cc_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!
  const members: SeededMember[] = [{ id: body.member.id, handle: 'admin', cookie }]
  const db = server.gateway.db
  for (let i = 1; i < count; i++) {
    const handle = `p${i}`
    const { user, member } = db.transaction((tx) =>
      insertAccount(tx, { email: `${handle}@bench.test`, passwordHash: 'x', name: handle, handle, workspaceId: body.workspace.id, role: 'member' })
    )
    members.push({ id: member.id, handle, cookie: createSession(db, user.id).token })
  }
  return { workspaceId: body.workspace.id, members }
}

/** A channel with the given members, written to SQLite (its docs are created on first use). */
export function seedChannel(server: RunningServer, workspaceId: string, name: string, memberIds: string[], isPrivate = false): string {
  return server.gateway.db.transaction((tx) =>
    insertConversation(tx, { workspaceId, kind: 'channel', name, topic: '', isPrivate, createdBy: memberIds[0]!, memberIds, dmKey: null })
  ).id
}
