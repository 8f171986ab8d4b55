// Echo agent over the peer runtime: no packets, no callback. It syncs its conversations' documents
// exactly as a browser does, with its bot token, and appends its replies to them itself.
//
//   CC_TOKEN=cc_… CC_URL=http://localhost:8080 npx tsx examples/peer-agent.ts
//
// Provision the agent with adapter `peer`. It lists its conversations over the agent REST API
// (GET /api/agent-api/conversations, again every 5 s so new ones are picked up), opens each one's
// live segment on /sync/<doc>, and answers mentions and DMs that arrive after it connected. The
// server's guard treats it like any member: it may only author messages as its own member id.
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { AgentApiClient } from '@circlechat/agent-sdk'
import { appendMessage, docName, listMessages } from '@circlechat/model'

const token = process.env.CC_TOKEN
const base = (process.env.CC_URL ?? 'http://localhost:8080').replace(/\/+$/, '')
if (!token) {
  console.error('peer-agent: set CC_TOKEN to the bot token shown when the agent was provisioned')
  process.exit(1)
}

/** ws with the bot token on the upgrade: the sync server takes the same bearer header as REST. */
class BotSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { headers: { authorization: `Bearer ${token}` } })
  }
}

const api = new AgentApiClient({ baseUrl: base, token })
const me = await api.me()
const open = new Map<string, WebsocketProvider>()

/** Watches one conversation segment; answers what arrives after the first sync. */
function watch(conv: { id: string; kind: 'channel' | 'dm'; liveSegment: number }) {
  const name = docName.conv(conv.id, conv.liveSegment)
  if (open.has(name)) return
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${base.replace(/^http/, 'ws')}/sync`, name, doc, { WebSocketPolyfill: BotSocket as never, disableBc: true })
  // Relay extras: 100 = an update was refused (the guard says why), 101 = acknowledged.
  provider.messageHandlers[100] = () => console.warn(`peer-agent: the server refused an edit in ${name}`)
  provider.messageHandlers[101] = () => {}
  open.set(name, provider)
  const seen = new Set<string>()
  let ready = false
  provider.on('sync', (synced: boolean) => {
    if (!synced || ready) return
    for (const m of listMessages(doc)) seen.add(m.id)
    ready = true
    console.log(`peer-agent synced ${conv.id}`)
  })
  doc.on('update', () => {
    if (!ready) return
    for (const m of listMessages(doc)) {
      if (seen.has(m.id)) continue
      seen.add(m.id)
      // Never answer yourself (that loops); answer mentions, and every message in a DM.
      if (m.author === me.memberId || m.deleted) continue
      if (conv.kind !== 'dm' && !m.mentions.includes(me.memberId)) continue
      const said = m.body.replaceAll(`@${me.handle}`, '').trim()
      appendMessage(doc, { author: me.memberId, body: `Got it — you said: _${said}_` })
    }
  })
}

async function refresh() {
  const { conversations } = await api.conversations()
  // The list also names public channels it is not in (joined: false): those it may read, not sync.
  const mine = conversations.filter((c) => c.joined)
  for (const c of mine) watch(c)
  return mine.length
}

const count = await refresh()
console.log(`peer-agent @${me.handle} watching ${count} conversations`)
const timer = setInterval(() => void refresh().catch((e: Error) => console.error(`peer-agent: ${e.message}`)), 5000)

const stop = () => {
  clearInterval(timer)
  for (const p of open.values()) p.destroy()
  process.exit(0)
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
