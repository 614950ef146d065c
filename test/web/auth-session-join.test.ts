// The logged-in request's session and user in one query (DbSessionStore.loadWithRow), on SQLite and
// PostgreSQL: one round trip, the same user, and no stale authentication after logout, a password
// change, deactivation or a deleted user, seen from another "worker" (a second app instance).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, setConnection, closeAll, queryHooks } from '../../src/db/index.ts'
import { migrateBuiltins } from '../../src/web/auth/builtins.ts'
import { createUser } from '../../src/web/auth/user.ts'
import { User } from '../../src/web/auth/models.ts'
import { DbSessionStore } from '../../src/web/sessions/db-store.ts'
import { SessionModel } from '../../src/web/sessions/models.ts'
import { Client } from '../../src/web/test-client.ts'
import { needPostgres, uniqueName } from '../support/services.ts'
import { authApp, SECRET } from './auth-support.ts'
import { createHmac } from 'node:crypto'
import { createSchema, dropSchema } from '../support/pg-schema.ts'

const schema = uniqueName('cw_authjoin')
let pgUrl: string | undefined

after(async () => {
  queryHooks.onQuery = undefined
  await closeAll()
  if (pgUrl) await dropSchema(pgUrl, schema)
})

async function login(c: Client, username: string, password: string): Promise<void> {
  const page = await c.get('/accounts/login/')
  const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page.text)![1]!
  const res = await c.post('/accounts/login/', { form: { csrfmiddlewaretoken: token, username, password } })
  assert.equal(res.status, 302, 'logged in')
}

async function scenario(dialect: string) {
  const user = await createUser({ username: `ann-${dialect}`, password: 'correct horse battery' })
  const worker1 = new Client(authApp())
  const worker2 = new Client(authApp())
  await login(worker1, user.username, 'correct horse battery')
  const cookie = worker1.cookies.get('sessionid')!
  worker2.cookies.set('sessionid', cookie)

  const seen: string[] = []
  queryHooks.onQuery = (q) => void seen.push(q.sql)
  const who = await worker2.get('/whoami/')
  queryHooks.onQuery = undefined
  assert.deepEqual(who.json(), { user: user.username })
  assert.equal(seen.length, 1, `one query for the session and its user on ${dialect}: ${seen.join(' | ')}`)
  assert.match(seen[0]!, /JOIN "auth_user"/)

  // A password change elsewhere logs this session out on the next request.
  await User.objects.filter({ id: user.id }).update({ password: 'scrypt$changed' })
  assert.deepEqual((await worker2.get('/whoami/')).json(), { user: null }, 'password change → anonymous')

  // Deactivation and deletion take effect at once too.
  await User.objects.filter({ id: user.id }).update({ password: user.password })
  const other = new Client(authApp())
  await login(other, user.username, 'correct horse battery')
  const c2 = new Client(authApp())
  c2.cookies.set('sessionid', other.cookies.get('sessionid')!)
  assert.deepEqual((await c2.get('/whoami/')).json(), { user: user.username })
  await User.objects.filter({ id: user.id }).update({ isActive: false })
  assert.deepEqual((await c2.get('/whoami/')).json(), { user: null }, 'inactive → anonymous')
  await User.objects.filter({ id: user.id }).update({ isActive: true })

  // Logout on one worker: the other sees the session gone.
  assert.deepEqual((await c2.get('/whoami/')).json(), { user: user.username })
  const page = await other.get('/accounts/login/')
  const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page.text)![1]!
  const out = await other.post('/accounts/logout/', { form: { csrfmiddlewaretoken: token } })
  assert.ok(out.status === 302 || out.status === 200, `logout answered ${out.status}`)
  assert.deepEqual((await c2.get('/whoami/')).json(), { user: null }, 'logged out on another worker → anonymous')
  for (const c of [worker1, worker2, other, c2]) await c.close()
}

async function oddData(dialect: string) {
  const user = await createUser({ username: `bob-${dialect}`, password: 'correct horse battery' })
  const decoy = await createUser({ username: `eve-${dialect}`, password: 'correct horse battery' })
  const store = new DbSessionStore()
  // The key nested deeper, first in the text: the joined row is the decoy's, the data says bob.
  const now = Date.now()
  const key = await store.save(undefined, { data: { cart: { _auth_user_id: decoy.id }, _auth_user_id: user.id }, expiresAt: now + 60_000, lastActivity: now })
  const r = await store.loadWithRow<{ id: number }>(key, User, '_auth_user_id')
  assert.equal(r.record?.data._auth_user_id, user.id)
  if (r.row) assert.ok(r.row.id === user.id || r.row.id === decoy.id)
  // A garbled row does not fail the query.
  await SessionModel.objects.filter({ sessionKey: key }).update({ sessionData: '{not json' })
  assert.deepEqual(await store.loadWithRow(key, User, '_auth_user_id'), { record: null, row: null })
  // Expired: nothing.
  await SessionModel.objects.filter({ sessionKey: key }).update({ sessionData: '{"d":{},"e":1,"a":1}', expireDate: new Date(now - 1000) })
  assert.deepEqual(await store.loadWithRow(key, User, '_auth_user_id'), { record: null, row: null })
  assert.deepEqual(await store.loadWithRow('junk', User, '_auth_user_id'), { record: null, row: null })
  await assert.rejects(store.loadWithRow(key, User, 'x; drop table'), /dataKey must be an identifier/)

  // Through the app: the odd session still authenticates bob (the fallback query), never eve.
  const hash = createHmac('sha256', `causeway.auth.session:${SECRET}`).update(user.password).digest('base64url')
  const key2 = await store.save(undefined, { data: { cart: { _auth_user_id: decoy.id }, _auth_user_id: user.id, _auth_user_hash: hash }, expiresAt: now + 60_000, lastActivity: now })
  const c = new Client(authApp())
  c.cookies.set('sessionid', key2)
  assert.deepEqual((await c.get('/whoami/')).json(), { user: user.username }, 'the data names bob: bob, never the decoy')
  await c.close()
}

test('SQLite: session and user in one query; no stale auth', async () => {
  setConnection(connect('sqlite::memory:'))
  await migrateBuiltins({ permissions: false })
  await scenario('sqlite')
  await oddData('sqlite')
  await closeAll()
})

test('PostgreSQL: session and user in one query; no stale auth', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  pgUrl = url
  setConnection(connect(await createSchema(url, schema)))
  await migrateBuiltins({ permissions: false })
  await scenario('postgres')
  await oddData('postgres')
})
