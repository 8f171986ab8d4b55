import type { Statement } from 'better-sqlite3'
import type { Db } from '@circlechat/db'
import { docName, meReadsOf, meThreadReadsOf } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { digestMail, type DigestItem } from '../mail/index.js'

/**
 * Mail digests of unread mentions for people who opted in on their profile and are away. Every
 * `everyMs` one pass looks at up to `batch` of them, least recently covered first; for each one
 * with no open sync socket it gathers mentions that are older than `delayMs`, newer than both
 * their last digest and the last time one of their sessions was seen, still unread by their read
 * markers, in conversations they are a member of now (the query joins the membership, so a
 * channel they left or a private one they were never in cannot appear), and mails at most
 * `perMail` of them with a count of the rest. Runs only with SMTP: a digest in the log helps
 * nobody.
 */
export interface DigestOptions {
  everyMs: number
  delayMs: number
  batch: number
  perMail: number
}

export const digestDefaults: DigestOptions = {
  // 5 minutes: a mention reaches the mailbox 15–20 minutes after it was written.
  everyMs: 5 * 60_000,
  // 15 minutes: someone stepping out for a coffee reads it in the app, not in a mail.
  delayMs: 15 * 60_000,
  // 200 people a pass, one SQL query and at most one mail each: well under a second of work.
  batch: 200,
  perMail: 20
}

interface Candidate { userId: string; email: string; memberId: string; workspace: string; digestThrough: number | null; lastSeen: number | null }
interface Mention { id: string; conversationId: string; parentId: string | null; createdAt: number; body: string; authorName: string; kind: 'channel' | 'dm'; name: string | null }

interface Statements {
  candidates: Statement<[{ limit: number }], Candidate>
  mentions: Statement<[{ memberId: string; since: number; until: number }], Mention>
  covered: Statement<[{ userId: string; through: number }]>
}

const cache = new WeakMap<Db, Statements>()
function statements(db: Db): Statements {
  let s = cache.get(db)
  if (!s) {
    const sqlite = db.$client
    s = {
      candidates: sqlite.prepare(`SELECT u.id AS userId, u.email, m.id AS memberId, w.name AS workspace, u.digest_through AS digestThrough,
          (SELECT max(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id) AS lastSeen
        FROM users u JOIN members m ON m.user_id = u.id AND m.deactivated = 0 JOIN workspaces w ON w.id = m.workspace_id
        WHERE u.mention_digest = 1 ORDER BY coalesce(u.digest_through, 0) LIMIT @limit`),
      // The activity view's mentions query (services/activity.ts), bounded in time. 500 rows at
      // most: a mail lists perMail of them and counts the rest.
      mentions: sqlite.prepare(`SELECT m.id, m.conversation_id AS conversationId, m.parent_id AS parentId, m.created_at AS createdAt,
          m.body, coalesce(a.name, 'Someone') AS authorName, c.kind, c.name
        FROM messages m
        JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = @memberId
        JOIN conversations c ON c.id = m.conversation_id
        LEFT JOIN members a ON a.id = m.author
        WHERE m.deleted = 0 AND m.author <> @memberId AND m.created_at > @since AND m.created_at <= @until
          AND EXISTS (SELECT 1 FROM json_each(m.mentions) j WHERE j.value IN (@memberId, 'everyone', 'channel'))
        ORDER BY m.created_at LIMIT 500`),
      covered: sqlite.prepare('UPDATE users SET digest_through = @through WHERE id = @userId AND mention_digest = 1')
    } as unknown as Statements
    cache.set(db, s)
  }
  return s
}

const excerpt = (body: string) => {
  const line = body.replace(/\s+/g, ' ').trim()
  return line.length > 160 ? `${line.slice(0, 159)}…` : line
}

/**
 * One pass; returns how many mails were sent. Never throws for one person's failure. With
 * several processes (`gw.digestShare`) it runs only while holding the cluster's pass lock, so the
 * candidates it reads already carry the previous pass's covered marks, and it skips members
 * connected to any process.
 */
export async function runDigestPass(gw: Gateway, o: DigestOptions = digestDefaults, now = Date.now()): Promise<number> {
  const share = gw.digestShare
  const candidates = () => statements(gw.db).candidates.all({ limit: o.batch })
  if (!share) return pass(gw, o, now, candidates(), gw.sync.connectedMembers(), async () => true)
  if (!(await share.lock())) return 0
  try {
    const list = candidates()
    return await pass(gw, o, now, list, await share.connected(list.map((c) => c.memberId)), () => share.stillLocked().catch(() => false))
  } finally {
    await share.unlock().catch(() => {})
  }
}

async function pass(gw: Gateway, o: DigestOptions, now: number, candidates: Candidate[], online: Set<string>, held: () => Promise<boolean>): Promise<number> {
  const s = statements(gw.db)
  const until = now - o.delayMs
  let sent = 0
  for (const c of candidates) {
    if (online.has(c.memberId)) continue
    const since = Math.max(c.digestThrough ?? 0, c.lastSeen ?? 0)
    if (since >= until) continue
    try {
      const me = await gw.sync.getDoc(docName.me(c.memberId))
      const reads = meReadsOf(me)
      const threadReads = meThreadReadsOf(me)
      const unread = s.mentions.all({ memberId: c.memberId, since, until }).filter((m) =>
        m.createdAt > (m.parentId ? Math.max(threadReads.get(m.parentId) ?? 0, reads.get(m.conversationId) ?? 0) : reads.get(m.conversationId) ?? 0))
      if (unread.length > 0) {
        const base = gw.config.publicBaseUrl
        const items: DigestItem[] = unread.slice(0, o.perMail).map((m) => ({
          by: m.authorName, where: m.kind === 'channel' ? `#${m.name ?? 'channel'}` : 'a direct message', at: m.createdAt,
          excerpt: excerpt(m.body), url: `${base}/c/${m.conversationId}?m=${m.id}`
        }))
        // The lock lapsed (a pass slower than its TTL): another process may be mailing these.
        if (!(await held())) return sent
        await gw.mail.send(digestMail({ to: c.email, workspace: c.workspace, items, more: unread.length - items.length, profileUrl: `${base}/profile` }))
        sent++
      }
      s.covered.run({ userId: c.userId, through: until })
    } catch (err) {
      // Left uncovered: the next pass tries again.
      console.error(`mention digest for ${c.email} failed:`, err instanceof Error ? err.message : err)
    }
  }
  return sent
}

/** Starts the periodic job (SMTP only); returns its stop. One pass at a time. */
export function startMentionDigests(gw: Gateway, options: Partial<DigestOptions> = {}): () => void {
  if (gw.mail.transport !== 'smtp') return () => {}
  const o = { ...digestDefaults, ...options }
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    runDigestPass(gw, o).catch((err: unknown) => console.error('mention digest pass failed:', err)).finally(() => { running = false })
  }, o.everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
