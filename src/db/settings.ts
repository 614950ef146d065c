// The `db` section of causeway.config.ts, as one declarative table (docs/db.md is generated from
// the same rows' descriptions).
import { resolveSettings, type SettingsOf } from '../settings-table.ts'

export const DB_SETTINGS = {
  url: {
    type: 'string', default: 'sqlite:///db.sqlite3', env: 'DATABASE_URL',
    description: 'Database URL: sqlite:///relative/path, sqlite:////absolute/path, sqlite::memory:, postgres://user:pass@host:5432/db[?schema=name]. Relative SQLite paths resolve against the project root (the config file\'s folder).',
    validate: (v: string) => (/^(sqlite:|postgres(ql)?:\/\/)/.test(v) ? undefined : 'must start with sqlite: or postgres://'),
  },
  models: { type: 'string', default: './models.ts', description: 'Module (relative to the config file) whose exports are the project\'s models.' },
  migrations: { type: 'string', default: './migrations', description: 'Folder (relative to the config file) of migration files NNNN_name.ts.' },
  poolSize: {
    type: 'int', default: 10, env: 'DB_POOL_SIZE', description: 'PostgreSQL: connections in each process\'s pool.',
    validate: (v: number) => (v >= 1 && v <= 1000 ? undefined : 'must be between 1 and 1000'),
  },
  pipeline: {
    type: 'int', default: 0, env: 'DB_PIPELINE',
    description: 'PostgreSQL: statements outside transactions go over at most this many connections per process in pipeline mode (several statements in flight on one connection, each still its own implicit transaction) instead of one pooled connection per statement. Saves CPU in the app and in PostgreSQL under load; a slow statement delays those queued behind it on its connection. 0: off (transactions always use the pool).',
    validate: (v: number) => (v >= 0 && v <= 100 ? undefined : 'must be between 0 and 100'),
  },
  busyTimeout: {
    type: 'duration', default: 5000, description: 'SQLite: how long a writer waits for another process\'s lock before SQLITE_BUSY.',
  },
  connectTimeout: { type: 'duration', default: 10_000, description: 'PostgreSQL: how long to wait for a new connection.' },
  statementCacheSize: {
    type: 'int', default: 500, description: 'Prepared statements kept per connection (SQLite) / named statements (PostgreSQL hot paths).',
    validate: (v: number) => (v >= 0 ? undefined : 'must be >= 0'),
  },
  atomicRequests: { type: 'boolean', default: false, description: 'Run each request\'s view in a transaction (Django\'s ATOMIC_REQUESTS); the web layer calls withAtomic().' },
} as const

export type DbSettings = SettingsOf<typeof DB_SETTINGS>

/** Validates the `db` section: unknown keys and bad values throw ConfigError naming `db.key`. */
export function resolveDbSettings(given: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): DbSettings {
  return resolveSettings('db', DB_SETTINGS as unknown as Parameters<typeof resolveSettings>[1], given, env) as DbSettings
}
