import { and, eq, inArray } from 'drizzle-orm'
import { members, type Db } from '@circlechat/db'
import { docName } from '@circlechat/model'
import type { SyncServer } from '@circlechat/sync-server'
import type { SocketHub } from './socket-hub.js'

/**
 * A socket agent is online while its `/agent-socket` is up. It never opens the workspace's `dir:`
 * doc, where people's tabs publish their presence, so the server publishes the connected agents
 * there as its own awareness state (`agentsOnline`, a key clients may not set), which the web app
 * reads beside people's states. Never stored; gone when the process stops.
 */
export function publishAgentPresence(db: Db, sync: SyncServer, hub: SocketHub): () => void {
  return hub.onPresence((agent) => {
    const workspaceId = db.select({ workspaceId: members.workspaceId }).from(members).where(eq(members.id, agent.memberId)).get()?.workspaceId
    if (!workspaceId) return
    const connected = hub.connectedMembers()
    const online = connected.length === 0 ? [] : db.select({ id: members.id }).from(members)
      .where(and(eq(members.workspaceId, workspaceId), inArray(members.id, connected))).all().map((m) => m.id)
    void sync.setServerPresence(docName.dir(workspaceId), online.length ? { agentsOnline: online } : null)
      .catch((err: unknown) => console.error('could not publish agent presence', err))
  })
}
