// `causeway serve examples/techempower/app.ts -c examples/techempower/causeway.config.ts`,
// `causeway migrate -c …`: the database comes from DATABASE_URL (default: a SQLite file here).
import { defineConfig } from '../../src/config.ts'

export default defineConfig({
  app: { module: './app.ts' },   // what `causeway serve -c this-file` runs
  db: {
    url: 'sqlite:///techempower.sqlite3',
    models: './models.ts',
    migrations: './migrations',
    poolSize: 8,
    // Statements outside transactions share one connection per worker, several in flight at once
    // (PostgreSQL pipeline mode): fewer wake-ups for the app and for PostgreSQL. Transactions
    // (/updates) still take pooled connections.
    pipeline: 1,
  },
  server: {
    workers: 2,
  },
})
