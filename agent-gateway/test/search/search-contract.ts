import { schema } from '@circlechat/db'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../src/errors.js'
import { HOT_WINDOW, recentMatches, type MessageScope, type SearchStore, type TaskScope } from '../../src/services/search-store.js'

/** Rows both backends are seeded with, as drizzle inserts them. */
export interface SearchSeed {
  workspaces: Array<typeof schema.workspaces.$inferInsert>
  members: Array<typeof schema.members.$inferInsert>
  conversations: Array<typeof schema.conversations.$inferInsert>
  conversationMembers: Array<typeof schema.conversationMembers.$inferInsert>
  messages: Array<typeof schema.messages.$inferInsert>
  tasks: Array<typeof schema.tasks.$inferInsert>
}

/** One backend of the search contract: a real database of its own, seeded once, and its store. */
export interface SearchBackend {
  store: SearchStore
  /** Inserts the rows in the order given (the order rows are indexed in). */
  seed(rows: SearchSeed): Promise<void>
  destroy(): Promise<void>
}

const T0 = 1_800_000_000_000
const HOUR = 3_600_000
const DAY = 24 * HOUR
let clock = 0
const ws = (id: string) => ({ id, name: id, handle: id.replace('_', ''), createdAt: T0 })
const member = (id: string, workspaceId = 'w_one') => ({ id, workspaceId, kind: 'user' as const, name: id, handle: id.slice(2), role: 'member' as const, createdAt: T0 })
const channel = (id: string, isPrivate: boolean, workspaceId = 'w_one') => ({ id, workspaceId, kind: 'channel' as const, name: id, isPrivate, createdBy: 'm_ada', createdAt: T0 })
const message = (id: string, conversationId: string, author: string, body: string, deleted = false) => ({
  id, conversationId, doc: `conv:${conversationId}:0`, author, createdAt: T0 + ++clock * 1000, deleted, body, mentions: [], attachments: [], reactions: []
})
const task = (id: string, board: string, createdBy: string, title: string, body = '', comments = '', deleted = false) => ({
  id, workspaceId: 'w_one', board, conversationId: board.startsWith('c_') ? board : null, title, body, status: 'backlog', position: 'a0',
  createdBy, createdAt: T0 + ++clock * 1000, updatedAt: T0 + clock * 1000, deleted, labels: [], comments
})

// bob: #pub, #pub2, the DM. ada: #pub, #priv, the DM (not #pub2, a public channel). cy wrote in #priv and left it.
const seed: SearchSeed = {
  workspaces: [ws('w_one'), ws('w_two')],
  members: [member('m_ada'), member('m_bob'), member('m_cy'), member('m_eve', 'w_two')],
  conversations: [
    channel('c_pub', false), channel('c_priv', true), channel('c_pub2', false), channel('c_other', false, 'w_two'),
    { ...channel('c_dm', true), kind: 'dm' }
  ],
  conversationMembers: [
    ['c_pub', 'm_ada'], ['c_pub', 'm_bob'], ['c_priv', 'm_ada'], ['c_dm', 'm_ada'], ['c_dm', 'm_bob'], ['c_pub2', 'm_bob'], ['c_other', 'm_eve']
  ].map(([conversationId, memberId]) => ({ conversationId: conversationId!, memberId: memberId!, joinedAt: T0 })),
  messages: [
    message('m_1', 'c_pub', 'm_ada', 'Deploy the release on Friday'),
    message('m_2', 'c_pub', 'm_bob', 'deploying tonight, résumé attached'),
    message('m_3', 'c_priv', 'm_ada', 'secret deploy plan'),
    message('m_4', 'c_priv', 'm_cy', 'cy wrote deploy notes before leaving'),
    message('m_5', 'c_dm', 'm_bob', 'DEPLOY RÉSUMÉ Café'),
    message('m_6', 'c_pub', 'm_bob', 'deleted deploy draft', true),
    message('m_7', 'c_pub', 'm_ada', 'see https://example.com/deploy_notes or mail ops@corp.org, v3.14'),
    message('m_8', 'c_other', 'm_eve', 'deploy elsewhere'),
    message('m_9', 'c_pub', 'm_ada', "alpha & beta | !gamma (delta) it's <-> x:* \\ 'q'"),
    message('m_10', 'c_pub2', 'm_bob', 'deploy in a public channel ada is not in'),
    message('m_11', 'c_pub', 'm_bob', 'snake_case words'),
    // A word in 110 messages an hour apart (4.5 days), then one in 110 within two minutes.
    ...Array.from({ length: 110 }, (_, i) => ({ ...message(`m_slow${i}`, 'c_pub', 'm_ada', `slowword ${i}`), createdAt: T0 + 10 * DAY + i * HOUR })),
    ...Array.from({ length: 110 }, (_, i) => ({ ...message(`m_hot${i}`, 'c_pub', 'm_ada', `hotword ${i}`), createdAt: T0 + 20 * DAY + i * 1000 })),
    ...Array.from({ length: 3 }, (_, i) => ({ ...message(`m_hotter${i}`, 'c_pub', 'm_ada', `hotwordy ${i}`), createdAt: T0 + 21 * DAY + i * 1000 }))
  ],
  tasks: [
    task('t_1', 'c_pub', 'm_ada', 'Quokka migration', 'move the wombat'),
    task('t_2', 'w_one', 'm_bob', 'Workspace quokka'),
    task('t_3', 'c_priv', 'm_ada', 'Hidden quokka'),
    task('t_4', 'c_pub', 'm_bob', 'Gone quokka', '', '', true),
    task('t_5', 'c_pub', 'm_bob', 'Review', 'nothing here', 'a comment about the quokka platypus')
  ]
}

/** The SearchStore contract (search-store.ts), run by each backend's test file on the same rows. */
export function searchContract(name: string, backend: () => Promise<SearchBackend>) {
  describe(`SearchStore contract: ${name}`, () => {
    let b: SearchBackend
    beforeAll(async () => {
      b = await backend()
      await b.seed(seed)
    })
    afterAll(async () => {
      await b?.destroy()
    })

    const scope = (memberId: string, q: string, more: Partial<MessageScope> = {}): MessageScope => ({ memberId, workspaceId: 'w_one', q, publicChannels: false, ...more })
    const ids = async (memberId: string, q: string, more: Partial<MessageScope> = {}) => (await b.store.messages(scope(memberId, q, more))).map((m) => m.messageId)
    const taskIds = async (memberId: string, q: string, more: Partial<TaskScope> = {}) =>
      (await b.store.tasks({ memberId, workspaceId: 'w_one', q, workspaceBoard: 'w_one', ...more })).map((t) => t.taskId)

    it('matches words, ANDed, the last as a prefix, newest first', async () => {
      expect(await ids('m_bob', 'deploy')).toEqual(['m_10', 'm_7', 'm_5', 'm_2', 'm_1'])
      expect(await ids('m_bob', 'deploy friday')).toEqual(['m_1'])
      expect(await ids('m_bob', 'deplo')).toEqual(['m_10', 'm_7', 'm_5', 'm_2', 'm_1'])
      expect(await ids('m_bob', 'the rel')).toEqual(['m_1'])
      expect(await ids('m_bob', 'deplo tonight')).toEqual([]) // only the last word is a prefix
      expect(await ids('m_bob', 'on f')).toEqual([]) // and not when it is one letter
      expect(await ids('m_bob', 'deploy zebra')).toEqual([])
    })

    it('returns what search.ts ranks and shows', async () => {
      const [hit] = await b.store.messages(scope('m_bob', 'friday'))
      expect(hit).toEqual({ messageId: 'm_1', conversationId: 'c_pub', memberId: 'm_ada', createdAt: seed.messages[0]!.createdAt, body: 'Deploy the release on Friday' })
      const [t] = await b.store.tasks({ memberId: 'm_bob', workspaceId: 'w_one', q: 'wombat', workspaceBoard: 'w_one' })
      expect(t).toEqual({ taskId: 't_1', conversationId: 'c_pub', title: 'Quokka migration', body: 'move the wombat', comments: '', status: 'backlog', updatedAt: seed.tasks[0]!.updatedAt })
    })

    it('folds case and accents', async () => {
      expect(await ids('m_bob', 'RESUME')).toEqual(['m_5', 'm_2'])
      expect(await ids('m_bob', 'résumé')).toEqual(['m_5', 'm_2'])
      expect(await ids('m_bob', 'cafe')).toEqual(['m_5'])
      expect(await ids('m_bob', 'CAFÉ')).toEqual(['m_5'])
    })

    it('splits at punctuation as FTS5 does: links, addresses, decimals, `_`', async () => {
      expect(await ids('m_bob', 'example com')).toEqual(['m_7'])
      expect(await ids('m_bob', 'corp org')).toEqual(['m_7'])
      expect(await ids('m_bob', 'notes 14')).toEqual(['m_7'])
      expect(await ids('m_bob', 'snake_case')).toEqual(['m_11'])
      expect(await ids('m_bob', 'snake_ca')).toEqual(['m_11'])
      expect(await ids('m_bob', 'case snake')).toEqual(['m_11'])
      expect(await ids('m_bob', 'case_snake')).toEqual([]) // a phrase: its parts in order
    })

    it('returns the newest `window` matches; a very common word is ranked over the newest HOT_WINDOW', async () => {
      const newest = (word: string, n: number) => Array.from({ length: n }, (_, i) => `m_${word}${109 - i}`)
      const hotter = ['m_hotter2', 'm_hotter1', 'm_hotter0']
      expect(await ids('m_bob', 'hotword', { window: 5 })).toEqual([...hotter, ...newest('hot', 2)]) // the last word a prefix
      expect(await ids('m_bob', 'hotword', { window: 3, wholeWords: true })).toEqual(newest('hot', 3))
      expect(await ids('m_bob', 'hotword')).toEqual([...hotter, ...newest('hot', 110)])
      const recent = async (q: string) => (await recentMatches(b.store, scope('m_bob', q))).map((m) => m.messageId)
      // 100 within two minutes: typed in full, the word's own newest; typed in part, the prefix's.
      expect(await recent('hotword')).toEqual(newest('hot', HOT_WINDOW))
      expect(await recent('hotwor')).toEqual([...hotter, ...newest('hot', HOT_WINDOW - 3)])
      expect(await recent('slowword')).toEqual(newest('slow', 110)) // 100 over four days: the usual window
      const filtered = await recentMatches(b.store, scope('m_bob', 'hotword', { author: 'm_ada' }))
      expect(filtered.map((m) => m.messageId)).toEqual([...hotter, ...newest('hot', HOT_WINDOW - 3)]) // a filter: the prefix at once
      expect(await recent('deploy')).toEqual(['m_10', 'm_7', 'm_5', 'm_2', 'm_1']) // fewer: every match
    })

    it('filters by conversation and by author', async () => {
      expect(await ids('m_bob', 'deploy', { conversationId: 'c_dm' })).toEqual(['m_5'])
      expect(await ids('m_bob', 'deploy', { conversationId: 'c_pub' })).toEqual(['m_7', 'm_2', 'm_1'])
      expect(await ids('m_bob', 'deploy', { author: 'm_ada' })).toEqual(['m_7', 'm_1'])
      expect(await ids('m_bob', 'deploy', { author: 'm_bob', conversationId: 'c_pub' })).toEqual(['m_2'])
    })

    it('shows nothing of a private conversation to a non-member, nor to one who left', async () => {
      expect(await ids('m_ada', 'secret')).toEqual(['m_3'])
      expect(await ids('m_bob', 'secret')).toEqual([])
      expect(await ids('m_bob', 'secret', { publicChannels: true })).toEqual([])
      expect(await ids('m_bob', 'secret', { conversationId: 'c_priv' })).toEqual([])
      expect(await ids('m_ada', 'leaving')).toEqual(['m_4'])
      expect(await ids('m_cy', 'leaving')).toEqual([])
      expect(await ids('m_cy', 'deploy', { author: 'm_cy' })).toEqual([])
    })

    it('adds the workspace public channels when asked, never another workspace', async () => {
      expect(await ids('m_ada', 'deploy')).toEqual(['m_7', 'm_5', 'm_4', 'm_3', 'm_2', 'm_1'])
      expect(await ids('m_ada', 'deploy', { publicChannels: true })).toEqual(['m_10', 'm_7', 'm_5', 'm_4', 'm_3', 'm_2', 'm_1'])
      expect(await ids('m_eve', 'deploy', { publicChannels: true })).toEqual(['m_10', 'm_7', 'm_2', 'm_1']) // w_one's public channels only
      expect(await ids('m_eve', 'deploy', { workspaceId: 'w_two' })).toEqual(['m_8'])
    })

    it('excludes deleted messages', async () => {
      expect(await ids('m_bob', 'draft')).toEqual([])
      expect(await ids('m_bob', 'deploy', { author: 'm_bob' })).toEqual(['m_10', 'm_5', 'm_2'])
      expect(await taskIds('m_bob', 'gone')).toEqual([])
    })

    it('reads typed operators and quotes as words, never as query syntax', async () => {
      expect(await ids('m_bob', 'alpha & beta')).toEqual(['m_9'])
      expect(await ids('m_bob', 'alpha | zebra')).toEqual([]) // `|` is not OR
      expect(await ids('m_bob', '!gamma')).toEqual(['m_9']) // `!` is not NOT
      expect(await ids('m_bob', '!deploy')).toEqual(['m_10', 'm_7', 'm_5', 'm_2', 'm_1'])
      expect(await ids('m_bob', '(delta) <-> x:*')).toEqual(['m_9'])
      expect(await ids('m_bob', "it's")).toEqual(['m_9'])
      expect(await ids('m_bob', "alpha' | 'deploy")).toEqual([])
      expect(await ids('m_bob', 'alpha\\ \\q')).toEqual(['m_9'])
      expect(await ids('m_bob', 'deploy:*')).toEqual(['m_10', 'm_7', 'm_5', 'm_2', 'm_1'])
      expect(await ids('m_bob', 'body : secret')).toEqual([]) // no FTS5 column filter either
      expect(await ids('m_bob', 'NEAR(alpha beta) OR deploy')).toEqual([])
      for (const q of ['', '&|!()', ':*', "'", '"', '<->', '\\', "''::tsquery", '_', '*']) expect(await ids('m_bob', q)).toEqual([])
    })

    it('answers very long input with results or a clear 400, never a server error', async () => {
      const outcome = (q: string) => ids('m_bob', q).then((r) => r, (err: unknown) => (err instanceof ApiError ? err.status : err))
      expect(await outcome(`${'alpha '.repeat(10_000)}beta`)).toEqual(['m_9']) // words past the twelfth are dropped
      expect(await outcome('deploy '.repeat(20) + 'zebra')).toEqual(['m_10', 'm_7', 'm_5', 'm_1']) // twelve exact words: not 'deploying'
      expect(await outcome('x'.repeat(100_000))).toEqual([])
      expect(await outcome(`deploy ${'é'.repeat(5_000)}`)).toEqual([])
      expect(await outcome('\u0000deploy\u0000')).toEqual(['m_10', 'm_7', 'm_5', 'm_2', 'm_1'])
    })

    it('tasks: the boards the caller reads, by words, board and creator, deleted excluded', async () => {
      expect(await taskIds('m_bob', 'quokka')).toEqual(['t_5', 't_2', 't_1'])
      expect(await taskIds('m_ada', 'quokka')).toEqual(['t_5', 't_3', 't_2', 't_1'])
      expect(await taskIds('m_cy', 'quokka')).toEqual(['t_2']) // the workspace board only
      expect(await taskIds('m_cy', 'quokka', { workspaceBoard: null })).toEqual([]) // a guest: not even that
      expect(await taskIds('m_bob', 'WOMBAT')).toEqual(['t_1'])
      expect(await taskIds('m_bob', 'platy')).toEqual(['t_5'])
      expect(await taskIds('m_bob', 'quokka', { conversationId: 'c_pub' })).toEqual(['t_5', 't_1'])
      expect(await taskIds('m_bob', 'quokka', { author: 'm_bob' })).toEqual(['t_5', 't_2'])
      expect(await taskIds('m_bob', 'quokka', { workspaceId: 'w_two' })).toEqual([])
      expect(await taskIds('m_bob', 'quokka | !wombat')).toEqual(['t_1'])
      expect(await taskIds('m_bob', '&|!()')).toEqual([])
    })
  })
}
