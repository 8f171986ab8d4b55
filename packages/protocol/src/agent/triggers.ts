import { z } from 'zod'

/** Why an agent was woken. `scheduled` and `ambient` go to the webhook's /heartbeat, the rest to /event. */
export const agentTriggerSchema = z.enum([
  'scheduled',
  'mention',
  'dm',
  'channel_post',
  'thread_reply',
  'task_assigned',
  'task_comment',
  'ambient',
  'approval_response',
  'test'
])
export type AgentTrigger = z.infer<typeof agentTriggerSchema>

/** Triggers delivered to `POST {callbackUrl}/heartbeat`; every other trigger goes to `/event`. */
export const heartbeatTriggers: readonly AgentTrigger[] = ['scheduled', 'ambient']
