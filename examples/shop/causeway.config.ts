// The shop's one config file: every layer's section. Paths are relative to this folder.
// Secrets and machine-specific values come from the environment (see docs/shop.md):
//   SECRET_KEY      required in production; for a local run a key is generated once and kept
//                   in <data dir>/secret_key (see local.ts)
//   DATABASE_URL    default: SQLite in the data dir
//   CAUSEWAY_DATA_DIR  where local state lives (default: ./.causeway)
import { defineConfig } from 'causeway/config'
import { databaseUrl } from './local.ts'

export default defineConfig({
  app: { module: './app.ts', seed: './seed.ts' },
  // pipeline: the shop's statements are short index lookups, so on PostgreSQL they share two
  // pipelined connections per worker instead of a pool checkout each (docs/db.md); SQLite ignores it.
  db: { url: databaseUrl(), models: './models.ts', migrations: './migrations', pipeline: 2 },
  server: { workers: 2 },
  edge: {},
  firewall: {},
  journey: {},
})
