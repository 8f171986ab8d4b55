import { z } from 'zod'
import { agentPacketSchema } from './packet.js'
import { agentUsageSchema } from './reply.js'

// Frames on WS /agent-socket (docs/agents.md "Runtimes"). JSON text frames only.

/** Server → agent, once the token checked out. */
export const socketHelloSchema = z.object({ type: z.literal('hello'), agentId: z.string(), handle: z.string() })

/** Server → agent: one run. The agent must answer with the same correlation_id within 210 s. */
export const socketDispatchSchema = z.object({
  type: z.enum(['heartbeat', 'event']),
  correlation_id: z.string().min(1),
  packet: agentPacketSchema
})

/**
 * Agent → server: what identifies the run a reply answers. The server reads this first and on
 * its own: once it matches a pending run, the run finishes at once, and the rest of the frame
 * is read leniently, field by field, as a webhook body is (parseAgentReply). `type` may be left out.
 */
export const socketReplyEnvelopeSchema = z.object({ type: z.literal('reply').optional(), correlation_id: z.string().min(1).max(200) })

/** Agent → server, well formed: either stay silent or hand back actions. */
export const socketReplySchema = z.union([
  z.object({ type: z.literal('reply'), correlation_id: z.string().min(1), status: z.literal('HEARTBEAT_OK') }),
  z.object({
    type: z.literal('reply'),
    correlation_id: z.string().min(1),
    actions: z.array(z.unknown()),
    trace: z.array(z.string()).optional(),
    usage: agentUsageSchema.optional()
  })
])

/** Agent → server keep-alive; the server ignores it. */
export const socketPongSchema = z.object({ type: z.literal('pong') })

export type SocketHello = z.infer<typeof socketHelloSchema>
export type SocketDispatch = z.infer<typeof socketDispatchSchema>
export type SocketReply = z.infer<typeof socketReplySchema>
export type SocketPong = z.infer<typeof socketPongSchema>
