import type {
  ActResult, AgentAction, AgentConversationsResponse, AgentMessagesResponse, AgentSearchResponse, AgentThreadResponse, AgentUsage, TaskStatus
} from '@circlechat/protocol'

// Typed client for the REST agent API (`/api/agent-api/*`, docs/agents.md). REST bodies are
// camelCase like the rest of /api; only the actions inside `act` keep the snake_case wire form.

export interface AgentApiOptions {
  /** Server base, e.g. `http://localhost:8080`. */
  baseUrl: string
  token: string
  fetch?: typeof fetch
}

export interface AgentMe { agentId: string; memberId: string; workspaceId: string; handle: string }
export type { ActResult }
export interface UploadedFile { key: string; name: string; contentType: string; size: number; url: string }
export interface MessagesQuery { conversationId: string; parentId?: string; before?: string; limit?: number }
export interface NewTask {
  title: string; bodyMd?: string; status?: TaskStatus; assignees?: string[]; labels?: string[]
  dueAt?: string | null; parentId?: string; conversationId?: string
}
export interface TaskPatch { title?: string; bodyMd?: string; status?: TaskStatus; progress?: number; dueAt?: string | null }
export type MemoryScope = 'global' | 'conversation' | 'task'
export interface MemoryQuery { scope?: MemoryScope; scopeId?: string; key?: string }
type Json = Record<string, unknown>

/** A non-2xx answer; `code` and `message` come from the server's `{error, message}` body. */
export class AgentApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'AgentApiError'
  }
}

export class AgentApiClient {
  readonly #base: string
  readonly #token: string
  readonly #fetch: typeof fetch

  constructor(options: AgentApiOptions) {
    this.#base = `${options.baseUrl.replace(/\/+$/, '')}/api/agent-api/`
    this.#token = options.token
    this.#fetch = options.fetch ?? fetch
  }

  me(): Promise<AgentMe> { return this.#call('GET', 'me') }
  /** A webhook agent provisioned without a URL registers its own (POST /api/agents/:id/register). */
  async register(callbackUrl: string): Promise<{ ok: true; agentId: string; memberId: string; callbackUrl: string }> {
    const { agentId } = await this.me()
    return this.#call('POST', `../agents/${encodeURIComponent(agentId)}/register`, { callbackUrl })
  }
  act(actions: AgentAction | AgentAction[]): Promise<ActResult> {
    return this.#call('POST', 'act', Array.isArray(actions) ? { actions } : { action: actions })
  }
  postMessage(body: { conversationId: string; bodyMd: string; replyTo?: string | null }): Promise<ActResult> { return this.#call('POST', 'post_message', body) }
  react(body: { messageId: string; emoji: string }): Promise<ActResult> { return this.#call('POST', 'react', body) }
  startDm(otherMemberId: string): Promise<{ conversationId: string }> { return this.#call('POST', 'start_dm', { otherMemberId }) }
  conversations(): Promise<AgentConversationsResponse> { return this.#call('GET', 'conversations') }
  messages(q: MessagesQuery): Promise<AgentMessagesResponse> { return this.#call('GET', `messages${query(q)}`) }
  thread(messageId: string): Promise<AgentThreadResponse> { return this.#call('GET', `thread${query({ messageId })}`) }
  search(q: string): Promise<AgentSearchResponse> { return this.#call('GET', `search${query({ q })}`) }
  members(): Promise<{ humans: Json[]; agents: Json[] }> { return this.#call('GET', 'members') }
  listTasks(q: { status?: TaskStatus; conversationId?: string } = {}): Promise<Json> { return this.#call('GET', `tasks${query(q)}`) }
  createTask(task: NewTask): Promise<Json> { return this.#call('POST', 'tasks', task) }
  getTask(taskId: string): Promise<Json> { return this.#call('GET', `tasks/${encodeURIComponent(taskId)}`) }
  updateTask(taskId: string, patch: TaskPatch): Promise<Json> { return this.#call('PATCH', `tasks/${encodeURIComponent(taskId)}`, patch) }
  commentOnTask(taskId: string, bodyMd: string): Promise<Json> {
    return this.#call('POST', `tasks/${encodeURIComponent(taskId)}/comments`, { bodyMd })
  }
  getMemory(q: MemoryQuery = {}): Promise<Json> { return this.#call('GET', `memory${query(q)}`) }
  setMemory(body: { key: string; value: unknown; scope?: MemoryScope; scopeId?: string }): Promise<Json> { return this.#call('POST', 'memory', body) }
  deleteMemory(q: MemoryQuery & { key: string }): Promise<Json> { return this.#call('DELETE', `memory${query(q)}`) }
  reportUsage(runId: string, usage: AgentUsage): Promise<Json> { return this.#call('POST', `runs/${encodeURIComponent(runId)}/usage`, usage) }

  /** Multipart upload; attach the answer with post_message's `attachments` (share_files is for URLs and paths). */
  upload(file: Blob, name: string): Promise<UploadedFile> {
    const form = new FormData()
    form.append('file', file, name)
    return this.#call('POST', 'uploads', form)
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` }
    let payload: BodyInit | undefined
    if (body instanceof FormData) payload = body
    else if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    const res = await this.#fetch(this.#base + path, { method, headers, body: payload })
    const text = await res.text()
    const data = text ? safeJson(text) : {}
    if (!res.ok) {
      const err = (data ?? {}) as { error?: string; message?: string }
      throw new AgentApiError(res.status, err.error ?? `http_${res.status}`, err.message ?? (text || res.statusText))
    }
    return data as T
  }
}

function query(params: object): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
