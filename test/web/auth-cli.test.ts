// `causeway migrate` applies the built-in apps' migrations; `createsuperuser` (interactive with a
// hidden password, and --no-input from the environment); `clearsessions`. Real processes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCauseway } from '../support/cli.ts'
import Database from 'better-sqlite3'
import { checkPassword } from '../../src/web/auth/hashers.ts'

const AUTH_MODELS = fileURLToPath(new URL('../../src/web/auth/models.ts', import.meta.url))
const CONFIG = fileURLToPath(new URL('../../src/config.ts', import.meta.url))
const DB = fileURLToPath(new URL('../../src/db/index.ts', import.meta.url))

const causeway = runCauseway

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cw-auth-cli-'))
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  writeFileSync(join(dir, 'models.ts'), `import { model, f } from ${JSON.stringify(DB)}
import { User } from ${JSON.stringify(AUTH_MODELS)}
export { User }
export const Order = model('shop.Order', { user: f.foreignKey(() => User, { onDelete: 'CASCADE', relatedName: 'orders' }), total: f.integer({ default: 0 }) })
`)
  writeFileSync(join(dir, 'causeway.config.ts'), `import { defineConfig } from ${JSON.stringify(CONFIG)}
export default defineConfig({ db: { url: 'sqlite:///app.sqlite3' } })
`)
  return dir
}

test('migrate applies sessions+auth migrations; createsuperuser --no-input and interactive; clearsessions', async (t) => {
  const dir = project()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  // a project model with a foreign key to auth.User: its migration creates only the project's table
  let r = await causeway(['makemigrations'], dir)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Create model shop.Order/)
  assert.doesNotMatch(r.stdout, /auth\./, 'the built-in app migrates its own models')
  r = await causeway(['migrate'], dir)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Applied 0001_sessions_initial/)
  assert.match(r.stdout, /Applied 0001_auth_initial/)
  assert.match(r.stdout, /Applied 0001_initial/)
  r = await causeway(['makemigrations', '--check'], dir)
  assert.equal(r.code, 0, r.stdout + r.stderr)
  r = await causeway(['migrate'], dir)
  assert.match(r.stdout, /No migrations to apply/)

  r = await causeway(['createsuperuser', '--no-input'], dir, { env: { CAUSEWAY_SUPERUSER_USERNAME: 'admin', CAUSEWAY_SUPERUSER_EMAIL: 'a@example.com', CAUSEWAY_SUPERUSER_PASSWORD: 'env-pass-2468' } })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Superuser created successfully/)
  r = await causeway(['createsuperuser', '--no-input'], dir, { env: { CAUSEWAY_SUPERUSER_USERNAME: 'admin' } })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /already taken/)
  r = await causeway(['createsuperuser', '--no-input'], dir)
  assert.equal(r.code, 2)

  // interactive: username, email, a too-common password (refused, not bypassed), then a good one twice
  r = await causeway(['createsuperuser'], dir, { input: ['root', 'root@example.com', 'password', 'password', 'n', 'Tr1cky-Unusual-42', 'Tr1cky-Unusual-42'] })
  assert.equal(r.code, 0, r.stderr + r.stdout)
  assert.match(r.stderr, /This password is too common/)
  assert.doesNotMatch(r.stdout, /Tr1cky/, 'the password is not echoed')

  const db = new Database(join(dir, 'app.sqlite3'))
  try {
    const rows = db.prepare('SELECT username, email, password, is_staff, is_superuser FROM auth_user ORDER BY id').all() as { username: string; email: string; password: string; is_staff: number; is_superuser: number }[]
    assert.deepEqual(rows.map((u) => [u.username, u.email, u.is_staff, u.is_superuser]), [['admin', 'a@example.com', 1, 1], ['root', 'root@example.com', 1, 1]])
    assert.equal(await checkPassword('env-pass-2468', rows[0]!.password), true)
    assert.equal(await checkPassword('Tr1cky-Unusual-42', rows[1]!.password), true)
    const past = new Date(Date.now() - 60_000).toISOString()
    const future = new Date(Date.now() + 60_000).toISOString()
    db.prepare('INSERT INTO shop_order (user_id, total) VALUES (?, ?)').run(1, 5)
    db.prepare('INSERT INTO causeway_session (session_key, session_data, expire_date) VALUES (?, ?, ?), (?, ?, ?)').run('a'.repeat(32), '{}', past, 'b'.repeat(32), '{}', future)
  } finally {
    db.close()
  }
  r = await causeway(['clearsessions'], dir)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Deleted 1 expired session/)
  const db2 = new Database(join(dir, 'app.sqlite3'))
  assert.deepEqual((db2.prepare('SELECT session_key FROM causeway_session').all() as { session_key: string }[]).map((x) => x.session_key), ['b'.repeat(32)])
  db2.close()
})
