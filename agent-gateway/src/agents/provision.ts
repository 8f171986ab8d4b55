import { eq } from 'drizzle-orm'
import { agents, members } from '@circlechat/db'
import { newId } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { assertHandleFree } from '../services/accounts.js'
import { addConversationMembers } from '../services/conversation-store.js'
import { getConversation } from '../services/request-queries.js'
import { mirrorConversation, mirrorMember } from '../services/doc-mirror.js'
import { badRequest } from '../errors.js'
import { hashSecret, newBotToken } from '../auth/tokens.js'
import { botCredential } from '../auth/principal.js'
import { checkCallbackUrl } from './ssrf.js'
import type { TokenVault } from './token-vault.js'
import { agentById, type AgentRecord } from './store.js'

export interface ProvisionInput {
  name: string
  handle: string
  adapter: 'webhook' | 'socket' | 'peer'
  callbackUrl?: string
  title?: string
  brief?: string
  model?: string
  avatar?: string
  heartbeatIntervalSec?: number
  scopes?: string[]
  reportsTo?: string
  channelIds?: string[]
}

/**
 * Creates an agent: a member row (so chat treats it like anyone), the runtime row, and a bot
 * token that is returned once and stored only as a hash (plus the sealed copy outbound calls
 * need). Joins the requested channels.
 */
export async function provisionAgent(gw: Gateway, vault: TokenVault, workspaceId: string, input: ProvisionInput): Promise<{ record: AgentRecord; botToken: string }> {
  // A webhook agent may come without a callback: it registers one itself later
  // (POST /api/agents/:id/register) and is not called until then.
  if (input.adapter === 'webhook' && input.callbackUrl) await requireSafeCallback(gw, input.callbackUrl)
  if (input.reportsTo) requireWorkspaceMember(gw, workspaceId, input.reportsTo)
  for (const id of input.channelIds ?? []) {
    if (getConversation(gw.db, id)?.workspaceId !== workspaceId) throw badRequest('invalid_input', `No conversation ${id} in this workspace.`)
  }
  const botToken = newBotToken()
  const now = Date.now()
  const memberId = newId('member')
  const agentId = newId('agent')
  gw.db.transaction((tx) => {
    assertHandleFree(tx, workspaceId, input.handle)
    tx.insert(members).values({
      id: memberId, workspaceId, userId: null, kind: 'agent', name: input.name, handle: input.handle, role: 'member',
      avatar: input.avatar ?? null, title: input.title ?? null, reportsTo: input.reportsTo ?? null, deactivated: false, createdAt: now
    }).run()
    tx.insert(agents).values({
      id: agentId, memberId, workspaceId, adapter: input.adapter, callbackUrl: input.callbackUrl ?? null, brief: input.brief ?? '',
      model: input.model ?? null, scopes: input.scopes ?? [], heartbeatIntervalSec: input.heartbeatIntervalSec ?? 30,
      tokenHash: hashSecret(botToken), tokenCipher: vault.seal(botToken), createdAt: now
    }).run()
    for (const id of input.channelIds ?? []) addConversationMembers(tx, id, [memberId], now)
  })
  const record = agentById(gw.db, agentId)!
  await mirrorMember(gw, record.member)
  for (const id of input.channelIds ?? []) await mirrorConversation(gw, id)
  return { record, botToken }
}

/**
 * Replaces an agent's bot token. The old one (perhaps leaked) must not live on in connections it
 * already opened: its sync sockets and /agent-socket close at once.
 */
export function rotateToken(gw: Gateway, vault: TokenVault, agentId: string): string {
  const botToken = newBotToken()
  const old = gw.db.select({ tokenHash: agents.tokenHash }).from(agents).where(eq(agents.id, agentId)).get()
  gw.db.update(agents).set({ tokenHash: hashSecret(botToken), tokenCipher: vault.seal(botToken) }).where(eq(agents.id, agentId)).run()
  if (old) gw.revocations.credential(botCredential(old.tokenHash))
  return botToken
}

/** The SSRF rule for callback URLs, the same at provisioning, PATCH and registration (ssrf.ts). */
export async function requireSafeCallback(gw: Gateway, url: string): Promise<void> {
  const checked = await checkCallbackUrl(url, gw.config.agentAllowPrivateUrls)
  if (!checked.ok) throw badRequest('callback_refused', `Callback URL refused: ${checked.reason}.`)
}

export function requireWorkspaceMember(gw: Gateway, workspaceId: string, memberId: string) {
  const m = gw.db.select({ ws: members.workspaceId }).from(members).where(eq(members.id, memberId)).get()
  if (m?.ws !== workspaceId) throw badRequest('invalid_input', `No member ${memberId} in this workspace.`)
}
