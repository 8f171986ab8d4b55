import { memberWritableMeKeys, MAX_BODY_CHARS } from '@circlechat/model'
import { rejectReason as R } from '@circlechat/protocol'
import { refuse } from '../verdict.js'
import { plainValue, type UpdateIndex } from '../resolve.js'

const writable = new Set<string>(memberWritableMeKeys)

/** OWN7: in its own `me:` doc a member writes plain values under the member-writable roots only. */
export function checkMeUpdate(index: UpdateIndex): void {
  for (const item of index.items) {
    const loc = index.freshLoc(item)
    if (!writable.has(loc.root)) refuse(R.serverOnlyField, `"${loc.root}" is written by the server`)
    if (loc.chain.length !== 0 || loc.sub === null) refuse(R.invalidField, `"${loc.root}" holds plain values by key`)
    validate(loc.root, plainValue(item))
  }
  for (const item of index.deletedLiveItems()) {
    const loc = index.liveLoc(item)
    if (!writable.has(loc.root)) refuse(R.serverOnlyField, `"${loc.root}" is written by the server`)
  }
}

function validate(root: string, value: unknown) {
  const ok =
    root === 'drafts' ? typeof value === 'string' && value.length <= MAX_BODY_CHARS
    : root === 'mutes' ? typeof value === 'boolean'
    : typeof value === 'number' && Number.isFinite(value)
  if (!ok) refuse(R.invalidField, `bad value in "${root}"`)
}
