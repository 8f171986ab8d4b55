import { socketDefaults } from './socket-health.js'

/** Relay defaults in one place; each says why, with the figure it rests on where measured. */
export const syncDefaults = {
  /** A one-message update is ~144 B; 256 KiB leaves room for pasted text and offline batches. */
  maxUpdateBytes: 256 * 1024,
  /** ws closes a connection on frames larger than this (1009) before we even parse them. */
  maxFrameBytes: 1024 * 1024,
  /** Per connection: updates per second (token bucket) and burst. Typing in a doc is ~10/s. */
  updatesPerSecond: 40,
  updateBurst: 120,
  /** Per connection: new messages per second and burst; beyond this is a flood, not a chat. */
  messagesPerSecond: 5,
  messageBurst: 20,
  /** Catch-up: a client back from offline flushes its outbox (one update per local change) right
   *  after connecting. For the first `catchUpWindowMs` of a connection it may draw on a pool of
   *  this many updates and new messages beyond the buckets above — a day of heavy offline use is
   *  ~650 updates and 500 messages. The pool is per member and doc, shared by their connections,
   *  and refills over `catchUpEveryMs`, so reconnecting in a loop buys no more than that. */
  catchUpUpdates: 2000,
  catchUpMessages: 600,
  catchUpWindowMs: 60_000,
  catchUpEveryMs: 10 * 60_000,
  /** Per connection: presence updates per second and burst, and bytes per update. The web app
   *  renews presence every ~15 s and sends typing at most a few times a second. */
  awarenessPerSecond: 5,
  awarenessBurst: 20,
  maxAwarenessBytes: 4 * 1024,
  /** Presence transitions (online/away/offline, typing, thinking) reach other sockets batched,
   *  at most this late: one frame per socket per flush, not one per change. */
  presenceFlushMs: 1000,
  /** Renewals (same state, clock bumped every 15–18 s) are batched this long. Not never: clients
   *  drop a peer whose clock stood still for 30 s (y-websocket also reconnects after 30 s of
   *  silence), so 18 s + this + delivery must stay under 30 s. */
  presenceRenewMs: 6000,
  /** Estimated heap of live docs (bytes); beyond it, docs nobody is connected to are evicted,
   *  least recently used first (SQLite has them). 48 MiB is ~14 full 1,000-message segments:
   *  a Raspberry Pi's share for a team's open conversations. Connected docs are never evicted,
   *  so this is a target, not a cap. Estimate: see Room.heapBytes. */
  docBudgetBytes: 48 * 1024 * 1024,
  /** A doc used this recently is not evicted for the budget: the gateway loads a doc while
   *  authorising an upgrade and observes that instance (unread, boards), and the socket joins it
   *  in the same event-loop turn; a request reads the doc it loaded a few turns later. Longer
   *  lets docs opened in a burst (scrolling back through history) pile up past the budget. */
  docGraceMs: 1000,
  /** A sealed segment (read-only history) nobody is connected to is unloaded after this long. */
  sealedIdleMs: 30_000,
  /** Rewrite a doc's update log as one snapshot after this many appended updates. */
  compactEvery: 500,
  /** A done task untouched this many days leaves its board doc for its task index row, so a
   *  board's doc holds its open work and recent history, not every card ever finished. */
  boardArchiveDays: 14,
  /** Tasks archived per run (a board's load and each compaction): bounded work per turn. */
  boardArchiveBatch: 200,
  /** Per socket: send-buffer limit, ping interval and missed pongs (see socket-health.ts). */
  maxBufferedBytes: socketDefaults.maxBufferedBytes,
  pingIntervalMs: socketDefaults.pingIntervalMs,
  missedPongLimit: socketDefaults.missedPongLimit
} as const
export type SyncConfig = { -readonly [K in keyof typeof syncDefaults]: number }
