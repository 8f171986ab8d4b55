// Echo agent over the peer runtime: no packets, no callback. It syncs its conversations' documents
// exactly as a browser does, with its bot token, and appends its replies to them itself.
//
//   CC_TOKEN=cc_… CC_URL=http://localhost:8080 npx tsx examples/peer-agent.ts
//
// Provision the agent with adapter `peer`. It lists its conversations over the agent REST API
// (GET /api/agent-api/conversations, again every 5 s so new ones are picked up), opens each one's
// live segment on /sync/<doc>, and answers mentions and DMs that arrive after it connected. The
// server's guard treats it like any member: it may only author messages as its own member id.
import { appendMessage, docName, listMessages } from '@circlechat/model'
import { startPeerAgent } from './lib/peer.js'
import type { JoinedConversation, Peer } from './lib/peer.js'

const watched = new Set<string>()

/** Watches one conversation segment; answers what arrives after the first sync. */
function watch({ me, open }: Peer, conv: JoinedConversation) {
  const name = docName.conv(conv.id, conv.liveSegment)
  if (watched.has(name)) return
  watched.add(name)
  const { doc, synced } = open(name)
  const seen = new Set<string>()
  let ready = false
  void synced.then(() => {
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

await startPeerAgent('peer-agent', (peer, joined) => {
  for (const c of joined) watch(peer, c)
})
