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
    // Reads outside transactions share two connections per worker, several statements in flight
    // on each (PostgreSQL pipeline mode): fewer wake-ups for the app and for PostgreSQL.
    pipeline: 2,
  },
  server: {
    workers: 2,
  },
})
