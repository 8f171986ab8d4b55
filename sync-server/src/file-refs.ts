import type { Db } from '@circlechat/db'

/**
 * Writes `file_refs`: which message or task comment attaches which upload, and in what scope
 * (a conversation id, or a workspace id for the workspace board). Who may read a file follows
 * it (agent-gateway services/files.ts). Called inside the index transaction of the update.
 */
export class FileRefs {
  #ref
  #unref

  constructor(db: Db) {
    const sqlite = db.$client
    this.#ref = sqlite.prepare(`
      INSERT INTO file_refs (file_key, ref, scope, deleted, task_id, created_at) VALUES (@key, @ref, @scope, @deleted, @taskId, @createdAt)
      ON CONFLICT(file_key, ref) DO UPDATE SET deleted = excluded.deleted, task_id = excluded.task_id`)
    this.#unref = sqlite.prepare('DELETE FROM file_refs WHERE ref = @ref AND file_key NOT IN (SELECT value FROM json_each(@keys))')
  }

  /** `ref` now attaches exactly `keys`: attachments edited away stop granting access, and a
   *  deleted message or comment keeps its rows marked deleted (the collector may drop the file).
   *  `taskId`: the task a comment is on (null for a message), so a listing can link to it. */
  record(ref: string, scope: string, keys: string[], deleted: boolean, createdAt: number, taskId: string | null = null) {
    this.#unref.run({ ref, keys: JSON.stringify(keys) })
    for (const key of keys) this.#ref.run({ key, ref, scope, deleted: deleted ? 1 : 0, taskId, createdAt })
  }
}
