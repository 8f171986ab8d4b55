import type { Db } from '@circlechat/db'
import type { SyncServer } from '@circlechat/sync-server'
import type { LoginThrottle } from './auth/login-throttle.js'
import type { Limits } from './limits/index.js'
import type { Revocations } from './auth/revocation.js'
import type { Config } from './config.js'
import type { BlobLock, BlobStore } from './files/index.js'
import type { Mailer } from './mail/index.js'
import type { DigestShare } from './services/digest-share.js'

/**
 * What routes and services need, passed explicitly (no module-level singletons), so tests and
 * several servers in one process never share state.
 */
export interface Gateway {
  db: Db
  sync: SyncServer
  config: Config
  /** File bytes: DATA_DIR/uploads or S3 (files/). */
  blobs: BlobStore
  /** Publishing a blob with its record, and the collector's removals, one at a time. */
  blobLock: BlobLock
  /** Secure cookies only when the public URL is https (browsers drop them over plain http). */
  secureCookies: boolean
  /** Failed sign-ins: growing delays per account, a cap per IP (auth/login-throttle.ts). */
  loginThrottle: LoginThrottle
  /** Where rate limits count: this process, or Redis when REDIS_URL is set (limits/). */
  limits: Limits
  /** Announce here whatever ends access (logout, rotation, deactivation, leave): sockets close. */
  revocations: Revocations
  /** Invites, password resets and mention digests: SMTP when SMTP_URL is set, else the log. */
  mail: Mailer
  /** With CLUSTER=redis and SMTP: the digest's pass lock and everyone's connections (services/digest-share.ts). */
  digestShare: DigestShare | null
}
