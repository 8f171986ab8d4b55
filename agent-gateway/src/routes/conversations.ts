import { Hono } from 'hono'
import { z } from 'zod'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { addMembers, browse, createChannel, join, leave, listMine, openDm, requireMembership, shape } from '../services/conversations.js'
import { removeMember, setArchived, updateChannel } from '../services/channel-settings.js'
import { listPins } from '../services/pins.js'
import { badRequest } from '../errors.js'
import { channelName, memberId } from './schemas.js'

const createBody = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('channel'),
    name: channelName,
    isPrivate: z.boolean().default(false),
    topic: z.string().trim().max(250).default(''),
    memberIds: z.array(memberId).max(1000).default([])
  }),
  // Group DMs stay small, as in every chat product: beyond that it is a private channel.
  z.object({ kind: z.literal('dm'), memberIds: z.array(memberId).min(1, 'Pick at least one person.').max(8) })
])
const updateBody = z.object({
  name: channelName.optional(),
  topic: z.string().trim().max(250).optional(),
  description: z.string().trim().max(1000).optional()
}).strict()
const membersBody = z.object({ memberIds: z.array(memberId).min(1, 'Pick at least one member.').max(1000) })

/** Mounted at /api/conversations. Message routes under /:id/messages live in messages.ts. */
export function conversationRoutes(gw: Gateway) {
  return new Hono()
    .use(requireAuth())
    .get('/', async (c) => c.json({ conversations: await listMine(gw, authOf(c)) }))
    .post('/', validate('json', createBody), async (c) => {
      const body = c.req.valid('json')
      if (body.kind === 'channel') return c.json({ conversation: await createChannel(gw, authOf(c), body) }, 201)
      const { conversation, created } = await openDm(gw, authOf(c), body.memberIds)
      return c.json({ conversation }, created ? 201 : 200)
    })
    .get('/browse', (c) => c.json({ channels: browse(gw, authOf(c)) }))
    // One of mine, for a client that opens it before its me: doc has synced (a first visit).
    .get('/:id', async (c) => {
      const auth = authOf(c)
      return c.json({ conversation: await shape(gw, requireMembership(gw, auth, c.req.param('id')), auth.member.id) })
    })
    .post('/:id/join', async (c) => c.json({ conversation: await join(gw, authOf(c), c.req.param('id')) }))
    .post('/:id/leave', async (c) => {
      await leave(gw, authOf(c), c.req.param('id'))
      return c.json({ ok: true })
    })
    .post('/:id/members', validate('json', membersBody), async (c) =>
      c.json({ conversation: await addMembers(gw, authOf(c), c.req.param('id'), c.req.valid('json').memberIds) })
    )
    .delete('/:id/members/:memberId', async (c) =>
      c.json({ conversation: await removeMember(gw, authOf(c), c.req.param('id'), c.req.param('memberId')) })
    )
    .patch('/:id', validate('json', updateBody), async (c) => {
      const changes = c.req.valid('json')
      if (Object.keys(changes).length === 0) throw badRequest('invalid_input', 'Send a name, topic or description to change.')
      return c.json({ conversation: await updateChannel(gw, authOf(c), c.req.param('id'), changes) })
    })
    .post('/:id/archive', async (c) => c.json({ conversation: await setArchived(gw, authOf(c), c.req.param('id'), true) }))
    .post('/:id/unarchive', async (c) => c.json({ conversation: await setArchived(gw, authOf(c), c.req.param('id'), false) }))
    .get('/:id/pins', (c) => c.json({ pins: listPins(gw, authOf(c), c.req.param('id')) }))
}
