import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { AgentApiClient } from '@circlechat/agent-sdk'
import type { AgentMe } from '@circlechat/agent-sdk'
import type { AgentConversationsResponse } from '@circlechat/protocol'

/** One document synced over `/sync/<name>` with the bot token. */
export interface PeerDoc {
  readonly name: string
  readonly doc: Y.Doc
  /** Settles once the first sync is done: what the doc holds then was there before we looked. */
  readonly synced: Promise<void>
  close(): void
}

export type JoinedConversation = AgentConversationsResponse['conversations'][number]

export interface Peer {
  readonly api: AgentApiClient
  readonly me: AgentMe
  open(name: string): PeerDoc
}

/**
 * Runs a peer agent from env: CC_TOKEN (required), CC_URL (default http://localhost:8080). Calls
 * `onConversations` with the conversations it is in, now and every 5 s (so new ones are picked
 * up); the public channels the list also names (`joined: false`) it may read, not sync. Prints
 * `<name> @<handle> watching <n> conversations` after the first call; tests wait for it.
 */
export async function startPeerAgent(name: string, onConversations: (peer: Peer, joined: JoinedConversation[]) => void): Promise<Peer> {
  const token = process.env.CC_TOKEN
  const base = (process.env.CC_URL ?? 'http://localhost:8080').replace(/\/+$/, '')
  if (!token) {
    console.error(`${name}: set CC_TOKEN to the bot token shown when the agent was provisioned`)
    process.exit(1)
  }
  /** ws with the bot token on the upgrade: the sync server takes the same bearer header as REST. */
  class BotSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { authorization: `Bearer ${token}` } })
    }
  }
  const docs = new Set<PeerDoc>()
  const api = new AgentApiClient({ baseUrl: base, token })
  const peer: Peer = {
    api,
    me: await api.me(),
    open(docName) {
      const doc = new Y.Doc()
      const provider = new WebsocketProvider(`${base.replace(/^http/, 'ws')}/sync`, docName, doc, { WebSocketPolyfill: BotSocket as never, disableBc: true })
      // Relay extras: 100 = an update was refused (the guard says why), 101 = acknowledged.
      provider.messageHandlers[100] = () => console.warn(`${name}: the server refused an edit in ${docName}`)
      provider.messageHandlers[101] = () => {}
      const synced = new Promise<void>((resolve) => {
        const onSync = (state: boolean) => {
          if (!state) return
          provider.off('sync', onSync)
          resolve()
        }
        provider.on('sync', onSync)
      })
      const opened: PeerDoc = {
        name: docName,
        doc,
        synced,
        close: () => {
          docs.delete(opened)
          provider.destroy()
          doc.destroy()
        }
      }
      docs.add(opened)
      return opened
    }
  }
  const refresh = async () => {
    const joined = (await api.conversations()).conversations.filter((c) => c.joined)
    onConversations(peer, joined)
    return joined.length
  }
  console.log(`${name} @${peer.me.handle} watching ${await refresh()} conversations`)
  const timer = setInterval(() => void refresh().catch((e: Error) => console.error(`${name}: ${e.message}`)), 5000)
  const stop = () => {
    clearInterval(timer)
    for (const d of docs) d.close()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return peer
}
