import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { constants } from 'node:fs'
import { open, realpath } from 'node:fs/promises'
import { basename, resolve, sep } from 'node:path'
import type { Readable } from 'node:stream'
import { MAX_ATTACHMENTS, type Attachment } from '@circlechat/model'
import type { z } from 'zod'
import type { actionFileSchema } from '@circlechat/protocol'
import type { Gateway } from '../deps.js'
import { ApiError } from '../errors.js'
import { resolveAttachments, storeFile } from '../services/files.js'
import { checkCallbackUrl } from './ssrf.js'
import { publicOnlyLookup } from './webhook-client.js'
import { refuse } from './refusal.js'
import type { AgentRecord } from './store.js'

type ActionFile = z.infer<typeof actionFileSchema>

/** Redirects followed per URL, each one checked like the first. */
export const MAX_REDIRECTS = 5
/** One file's whole fetch, connect to last byte: a slow server cannot hold a run open. */
export const FETCH_TIMEOUT_MS = 60_000

/** Says whether the server may fetch a URL (ssrf.ts); every hop of a redirect chain goes through it. */
export type UrlCheck = (raw: string) => Promise<{ ok: true; url: URL } | { ok: false; reason: string }>

export interface UrlLimits {
  maxBytes: number
  timeoutMs: number
  allowPrivate: boolean
}

interface Source {
  body: Readable
  name: string
  /** Where a failure is said to come from, in the agent's words. */
  label: string
}

const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`

function get(url: URL, allowPrivate: boolean, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((done, fail) => {
    const client = url.protocol === 'https:' ? https : http
    const req = client.get(url, { signal, headers: { accept: '*/*' }, ...(allowPrivate ? {} : { lookup: publicOnlyLookup }) }, done)
    req.on('error', fail)
  })
}

/**
 * Opens a URL for streaming: each hop (the URL, then every redirect's target) passes `check`
 * before it is dialled, and unless private addresses are allowed the socket refuses a private
 * address at connect time too (DNS rebinding). Refused before a byte is read when the server
 * declares more than `maxBytes`; the deadline covers the whole fetch, body included.
 */
export async function openUrl(raw: string, check: UrlCheck, limits: UrlLimits): Promise<Source> {
  const ac = new AbortController()
  const deadline = setTimeout(() => ac.abort(new Error(`timed out after ${Math.round(limits.timeoutMs / 1000)} s`)), limits.timeoutMs)
  const label = raw.slice(0, 200)
  try {
    let next = raw
    for (let hop = 0; ; hop++) {
      const checked = await check(next)
      if (!checked.ok) return refuse(`${label}: ${hop ? `redirected to ${next.slice(0, 200)}, ` : ''}${checked.reason}`)
      const res = await get(checked.url, limits.allowPrivate, ac.signal).catch((err: Error) => refuse(`${label}: ${ac.signal.aborted ? String(ac.signal.reason?.message) : err.message}`))
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume()
        if (hop >= MAX_REDIRECTS) return refuse(`${label}: more than ${MAX_REDIRECTS} redirects`)
        next = new URL(res.headers.location, checked.url).href
        continue
      }
      if (status !== 200) {
        res.resume()
        return refuse(`${label}: the server answered ${status}`)
      }
      if (Number(res.headers['content-length']) > limits.maxBytes) {
        res.destroy()
        return refuse(`${label}: the file is larger than ${mb(limits.maxBytes)} (MAX_UPLOAD_MB)`)
      }
      ac.signal.addEventListener('abort', () => res.destroy(ac.signal.reason as Error), { once: true })
      res.once('close', () => clearTimeout(deadline))
      const last = decodeURIComponent(checked.url.pathname.split('/').pop() ?? '')
      return { body: res, name: last || checked.url.hostname, label }
    }
  } catch (err) {
    clearTimeout(deadline)
    throw err
  }
}

/**
 * Opens a file under the share folder (AGENT_SHARE_DIR) of the server's own disk. The path is
 * refused if it leaves the folder as written, then again once symlinks are resolved, so neither
 * `..` nor a link pointing out can reach anything else; with no folder set, paths are refused.
 */
export async function openSharedPath(dir: string | undefined, raw: string, maxBytes: number): Promise<Source> {
  if (!dir) return refuse('sharing by path is off on this server (AGENT_SHARE_DIR is not set): share a URL, or upload the file and post its key')
  const label = raw.slice(0, 200)
  const inside = (root: string, p: string) => p === root || p.startsWith(root + sep)
  const root = await realpath(dir).catch(() => refuse('the share folder (AGENT_SHARE_DIR) does not exist on this server'))
  const wanted = resolve(root, raw)
  if (!inside(root, wanted)) return refuse(`${label} is outside the share folder`)
  const real = await realpath(wanted).catch(() => refuse(`${label}: no such file in the share folder`))
  if (!inside(root, real)) return refuse(`${label} is outside the share folder`)
  // O_NOFOLLOW: the last component cannot have been swapped for a link since realpath;
  // O_NONBLOCK: a FIFO opens at once (and is refused below) instead of waiting for a writer.
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => refuse(`${label}: cannot be read`))
  const st = await handle.stat()
  if (!st.isFile() || st.size > maxBytes) {
    await handle.close()
    return refuse(st.isFile() ? `${label}: the file is larger than ${mb(maxBytes)} (MAX_UPLOAD_MB)` : `${label} is not a file`)
  }
  return { body: handle.createReadStream(), name: basename(real), label }
}

/**
 * share_files: fetches or reads each file, one at a time, and stores it as the agent's own upload
 * (the same limits, quota, sniffing and thumbnails as a person's), then answers the attachments
 * for the message. A file that fails refuses the action; files stored before it stay unattached
 * and are collected like any unsent upload.
 */
export async function shareFiles(gw: Gateway, rec: AgentRecord, list: ActionFile[]): Promise<Attachment[]> {
  if (list.length > MAX_ATTACHMENTS) refuse(`at most ${MAX_ATTACHMENTS} files a message`)
  const owner = { memberId: rec.member.id, workspaceId: rec.member.workspaceId }
  const maxBytes = gw.config.maxUploadBytes ?? 25 * 1024 * 1024
  const allowPrivate = gw.config.agentAllowPrivateUrls
  const check: UrlCheck = (raw) => checkCallbackUrl(raw, allowPrivate)
  const keys: Array<{ key: string }> = []
  for (const file of list) {
    const source = 'url' in file
      ? await openUrl(file.url, check, { maxBytes, timeoutMs: FETCH_TIMEOUT_MS, allowPrivate })
      : await openSharedPath(gw.config.agentShareDir, file.path, maxBytes)
    let failed: Error | null = null
    source.body.once('error', (err) => (failed = err))
    try {
      keys.push({ key: (await storeFile(gw, owner, source.body, file.name ?? source.name)).key })
    } catch (err) {
      source.body.destroy()
      if (err instanceof ApiError) refuse(`${source.label}: ${err.message}`)
      if (failed) refuse(`${source.label}: ${(failed as Error).message}`)
      throw err
    }
  }
  return resolveAttachments(gw, owner, keys)
}
