// The db commands as a user runs them: real `causeway` processes on a temp project with
// causeway.config.ts, models.ts and a SQLite file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCauseway } from '../support/cli.ts'

const DB = fileURLToPath(new URL('../../src/db/index.ts', import.meta.url))
const CONFIG = fileURLToPath(new URL('../../src/config.ts', import.meta.url))

const causeway = (args: string[], cwd: string, env: Record<string, string> = {}) => runCauseway(args, cwd, { env })

function models(extra = ''): string {
  return `import { model, f } from ${JSON.stringify(DB)}
export const Category = model('shop.Category', { name: f.char({ maxLength: 100 }) })
export const Product = model('shop.Product', {
  name: f.char({ maxLength: 200 }),
  category: f.foreignKey(() => Category, { onDelete: 'CASCADE', relatedName: 'products' }),${extra}
})
`
}

test('causeway makemigrations / migrate / showmigrations with --config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  writeFileSync(join(dir, 'models.ts'), models())
  const config = join(dir, 'causeway.config.ts')
  writeFileSync(config, `import { defineConfig } from ${JSON.stringify(CONFIG)}
export default defineConfig({ db: { url: 'sqlite:///var/app.sqlite3', models: './models.ts', migrations: './migrations' } })
`)
  const other = mkdtempSync(join(tmpdir(), 'cw-cli-cwd-'))
  t.after(() => rmSync(other, { recursive: true, force: true }))

  let r = await causeway(['makemigrations', '--check', '--config', config], other)
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /Models have changes without a migration[\s\S]*Create model shop\.Product/)

  r = await causeway(['makemigrations', '--config', config], other)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /0001_initial\.ts[\s\S]*Create model shop\.Category/)
  assert.deepEqual(readdirSync(join(dir, 'migrations')), ['0001_initial.ts'])

  r = await causeway(['makemigrations', '--check', '--config', config], other)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /No changes detected/)

  r = await causeway(['showmigrations', '--config', config], other)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /\[ \] 0001_initial/)

  r = await causeway(['migrate', '--config', config], other)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Applied 0001_initial/)
  assert.ok(existsSync(join(dir, 'var', 'app.sqlite3')), 'sqlite:///relative resolves against the config folder')

  writeFileSync(join(dir, 'models.ts'), models(`\n  stock: f.integer({ default: 0 }),`))
  r = await causeway(['makemigrations', '--check', '--config', config], other)
  assert.equal(r.code, 1)
  assert.match(r.stderr, /Add field stock to shop\.Product/)
  r = await causeway(['makemigrations', '--name', 'stock', '--config', config], other)
  assert.equal(r.code, 0, r.stderr)
  r = await causeway(['migrate', '--config', config], other)
  assert.match(r.stdout, /Applied 0002_stock/)
  r = await causeway(['showmigrations'], dir)
  assert.match(r.stdout, /\[X\] 0001_initial\n\[X\] 0002_stock/)

  r = await causeway(['migrate', '0001', '--config', config], other)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Unapplied 0002_stock/)

  // DATABASE_URL overrides the config file.
  r = await causeway(['migrate', '--config', config], other, { DATABASE_URL: 'sqlite:///other.sqlite3' })
  assert.equal(r.code, 0, r.stderr)
  assert.ok(existsSync(join(dir, 'other.sqlite3')))

  r = await causeway(['migrate', '--bogus'], dir)
  assert.equal(r.code, 2)
  assert.match(r.stderr, /unknown option --bogus/)
  r = await causeway(['migrate', '0042', '--config', config], other)
  assert.equal(r.code, 1)
  assert.match(r.stderr, /matches no migration/)
  r = await causeway(['migrate', '--config', config], other, { DATABASE_URL: 'mysql://x' })
  assert.equal(r.code, 2)
  assert.match(r.stderr, /db\.url/)
})
