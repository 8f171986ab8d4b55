import * as Y from 'yjs'
import { isMemberWritableMeRoot, meValueProblem } from '@circlechat/model'
import { rejectReason as R } from '@circlechat/protocol'
import { refuse } from '../verdict.js'
import { plainValue, type UpdateIndex } from '../resolve.js'

/** OWN7, OWN11, OWN12: in its own `me:` doc a member writes plain values by key under the
 *  member-writable roots only (packages/model/src/docs/me-rules.ts has the value rules: `seen`
 *  takes only the known view names, so it stays one small entry per view). */
export function checkMeUpdate(index: UpdateIndex, now: number): void {
  for (const item of index.items) {
    const loc = index.loc(item)
    if (!isMemberWritableMeRoot(loc.root)) refuse(R.serverOnlyField, `"${loc.root}" is written by the server`)
    if (loc.chain.length !== 0 || loc.sub === null) refuse(R.invalidField, `"${loc.root}" holds plain values by key`)
  }
  for (const item of index.deletedLive) {
    const loc = index.liveLoc(item)
    if (!isMemberWritableMeRoot(loc.root)) refuse(R.serverOnlyField, `"${loc.root}" is written by the server`)
  }
  for (const w of index.keyWrites()) {
    if (!w.chain) refuse(R.duplicateKey, `"${w.loc.root}" key "${w.loc.sub}" is written twice at once; only one would win`)
    for (const item of w.items) {
      if (item.content instanceof Y.ContentDeleted) continue
      const problem = meValueProblem(w.loc.root, w.loc.sub!, plainValue(item), now)
      if (problem) refuse(R.invalidField, problem)
    }
  }
}
