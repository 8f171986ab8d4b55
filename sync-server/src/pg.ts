// The PostgreSQL store, a subpath of its own: a one-box install never loads the driver.
export { PgDocStore } from './persistence/postgres.js'
export type { PgWrite } from './persistence/postgres.js'
export { pgRows } from './persistence/rows-postgres.js'
