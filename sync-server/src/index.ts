import { Relay } from './relay.js'
import type { SyncServer, SyncServerOptions } from './types.js'
import type { SyncConfig } from './config.js'

export function createSyncServer(options: SyncServerOptions, config: Partial<SyncConfig> = {}): SyncServer {
  return new Relay(options, config)
}

export { guardUpdate } from './guard/index.js'
export type { GuardContext, GuardResult } from './guard/index.js'
export { syncDefaults } from './config.js'
export { socketDefaults, sendBounded, keepAlive, closeGracefully, TOO_SLOW_REASON } from './socket-health.js'
export type { SocketLimits } from './socket-health.js'
export type { SyncConfig } from './config.js'
export { StorageFailure } from './storage-failure.js'
export { StreamReader } from './cluster/stream-reader.js'
export { SqliteStore } from './persistence/sqlite.js'
export type { SqliteWrite } from './persistence/sqlite.js'
export { sqliteRows } from './persistence/rows-sqlite.js'
export type { DocStore } from './persistence/store.js'
export { originMember, isOrigin } from './origins.js'
export type { Origin } from './origins.js'
export type { Principal, MessageChange, SyncServer, SyncServerOptions } from './types.js'
