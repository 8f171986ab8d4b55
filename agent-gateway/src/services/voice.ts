import { voiceProblem, type VoiceInfo } from '@circlechat/model'
import { badRequest } from '../errors.js'

/**
 * Voice messages are uploads with a `voice` form field: `{durationMs, peaks}` as the recording
 * browser measured them (docs/api.md). The server cannot decode Opus without a codec library, so
 * it trusts the numbers only as far as their bounds (packages/model voiceProblem): a lying client
 * can draw itself a wrong waveform, never a huge one.
 */
export function parseVoiceField(raw: string | undefined, truncated: boolean): VoiceInfo | null {
  if (raw === undefined) return null
  let value: unknown
  try {
    value = truncated ? undefined : JSON.parse(raw)
  } catch {}
  const problem = value === undefined ? 'voice is JSON {durationMs, peaks}' : voiceProblem(value)
  if (problem) throw badRequest('invalid_voice', `${problem}; nothing was stored.`)
  const v = value as VoiceInfo
  return { durationMs: v.durationMs, peaks: [...v.peaks] }
}

/**
 * The type a voice message is served as. Chromium records Opus in WebM and Firefox in Ogg; the
 * sniffer calls any WebM (or MP4, Safari's) video, which an audio-only recording is not, so the
 * container is kept and the top type made audio. Anything that is not such a container is not a
 * voice message.
 */
export function voiceContentType(sniffed: string): string {
  if (sniffed.startsWith('audio/')) return sniffed
  if (sniffed === 'video/webm') return 'audio/webm'
  if (sniffed === 'video/mp4') return 'audio/mp4'
  throw badRequest('invalid_voice', `A voice message is audio (Opus in WebM or Ogg); this file is ${sniffed}. Nothing was stored.`)
}
