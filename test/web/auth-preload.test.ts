// AUTH_PRELOAD_USER: the user is loaded before the view (session read, then the user's query),
// so the view's first statements are issued in the same tick — on pipelined PostgreSQL, in the
// same write. req.state.auser() keeps its contract (one promise, one query per request) and
// failures surface where they did with the lazy user: a store that fails or a deleted user is
// seen by the page that asks, and a page that never asks renders.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { connect, setConnection, closeAll, queryHooks, getConnection } from '../../src/db/index.ts'
import { migrateBuiltins } from '../../src/web/auth/builtins.ts'
import { createUser, type AuthUser } from '../../src/web/auth/user.ts'
import { User } from '../../src/web/auth/models.ts'
import { createApp } from '../../src/web/app.ts'
import { path } from '../../src/web/urls/index.ts'
import { html, json } from '../../src/web/response.ts'
import { memoryLogger } from '../../src/web/log.ts'
import { createSessionMiddleware } from '../../src/web/sessions/middleware.ts'
import { csrfMiddleware } from '../../src/web/csrf/middleware.ts'
import { authenticationMiddleware } from '../../src/web/auth/middleware.ts'
import { requestUser } from '../../src/web/auth/auth.ts'
import { newSessionKey, type SessionRecord, type SessionStore } from '../../src/web/sessions/store.ts'
import { Client } from '../../src/web/test-client.ts'
import type { HttpRequest } from '../../src/web/request.ts'
import { needPostgres, uniqueName } from '../support/services.ts'
import { countSocketWrites, portOf } from '../support/socket-writes.ts'
import { createSchema, dropSchema } from '../support/pg-schema.ts'

const SECRET = 'auth-preload-test-secret-'.padEnd(48, 'x')
const schema = uniqueName('cw_authpre')
let pgUrl: string | undefined

after(async () => {
  queryHooks.onQuery = undefined
  await closeAll()
  if (pgUrl) await dropSchema(pgUrl, schema)
})

/** A session store standing in for Redis: answers after a turn of the event loop; can fail. */
class RemoteStore implements SessionStore {
  readonly kind = 'remote'
  readonly records = new Map<string, SessionRecord>()
  loads = 0
  down = false
  load(cookie: string): Promise<SessionRecord | null> {
    this.loads++
    events.push('session')
    return new Promise((resolve, reject) => setImmediate(() => (this.down ? reject(new Error('session store down')) : resolve(structuredClone(this.records.get(cookie) ?? null)))))
  }
  async save(cookie: string | undefined, record: SessionRecord): Promise<string> {
    const key = cookie ?? newSessionKey()
    this.records.set(key, structuredClone(record))
    return key
  }
  async delete(cookie: string): Promise<void> {
    this.records.delete(cookie)
  }
  async clearExpired(): Promise<number> {
    return 0
  }
  /** A logged-in session for `user`, as login() leaves it. */
  loggedIn(user: AuthUser): string {
    const key = newSessionKey()
    const hash = createHmac('sha256', `causeway.auth.session:${SECRET}`).update(user.password).digest('base64url')
    this.records.set(key, { data: { _auth_user_id: user.id, _auth_user_hash: hash }, expiresAt: Date.now() + 60_000, lastActivity: Date.now() })
    return key
  }
}

// What happened, in order: 'session' (a store read), 'view', and each statement's first word and
// table; `tick` marks where a tick ended (a process.nextTick after the user's query).
let events: string[] = []
const VIEW_SQL = 'SELECT 7 AS view_statement'

function app(store: SessionStore, preload: boolean) {
  const auserTwice = async (req: HttpRequest) => {
    const a = req.state.auser as () => Promise<AuthUser>
    const p = a()
    assert.equal(a(), p, 'auser() hands back the same promise')
    assert.equal(requestUser(req), p, 'and requestUser() too')
    return json({ user: (await p).username || null, same: req.state.user === (await p) })
  }
  return createApp({
    urls: [
      // The shop's product page: a statement of its own, then the user.
      path('page/', async (req) => {
        events.push('view')
        const rows = await getConnection().query({ sql: VIEW_SQL, params: [] }, true)
        const user = await requestUser(req)
        return json({ user: user.username || null, rows })
      }),
      path('plain/', () => { events.push('view'); return html('no user here') }),
      path('twice/', auserTwice),
    ],
    middleware: [createSessionMiddleware({ store }), csrfMiddleware, authenticationMiddleware],
    settings: { SECRET_KEY: SECRET, ALLOWED_HOSTS: ['localhost'], PASSWORD_SCRYPT_N: 1024, AUTH_PRELOAD_USER: preload },
    logger: memoryLogger(),
  })
}

function record(): void {
  events = []
  let userQuery = false
  queryHooks.onQuery = (q) => {
    const what = q.sql.includes('auth_user') ? 'user query' : q.sql === VIEW_SQL ? 'view query' : q.sql
    events.push(what)
    if (what === 'user query' && !userQuery) {
      userQuery = true
      process.nextTick(() => events.push('tick'))
    }
  }
}

async function behaviour(): Promise<void> {
  const ann = await createUser({ username: `ann-${Date.now()}`, password: 'correct horse battery' })
  const store = new RemoteStore()
  const key = store.loggedIn(ann)

  // Preloaded: the session, then the user's query, then the view, whose statement is issued in
  // the same tick as the user's.
  const c = new Client(app(store, true))
  c.cookies.set('sessionid', key)
  record()
  const page = await c.get('/page/')
  assert.equal(page.status, 200, page.text)
  assert.deepEqual(page.json(), { user: ann.username, rows: [[7]] })
  assert.deepEqual(events, ['session', 'user query', 'view', 'view query', 'tick'])
  assert.match(String(page.headers.vary), /Cookie/)

  // Lazy (the default): the view first, the session and the user when asked.
  const lazy = new Client(app(store, false))
  lazy.cookies.set('sessionid', key)
  record()
  assert.deepEqual((await lazy.get('/page/')).json(), { user: ann.username, rows: [[7]] })
  assert.deepEqual(events.filter((e) => e !== 'tick'), ['view', 'view query', 'session', 'user query'])
  record()
  const plainLazy = await lazy.get('/plain/')
  assert.deepEqual(events, ['view'], 'a page that never asks: no session read, no query')
  assert.equal(plainLazy.headers.vary, undefined)

  // auser(): one promise and one query per request, req.state.user set once loaded.
  record()
  assert.deepEqual((await c.get('/twice/')).json(), { user: ann.username, same: true })
  assert.equal(events.filter((e) => e === 'user query').length, 1)
  assert.equal(events.filter((e) => e === 'session').length, 1)

  // No session cookie: nothing loaded before the view, anonymous as before.
  const anon = new Client(app(store, true))
  record()
  assert.deepEqual((await anon.get('/page/')).json(), { user: null, rows: [[7]] })
  assert.deepEqual(events, ['view', 'view query'])

  // The store is down: a page that never asks still renders, without Vary or a cookie change
  // (the visitor stays signed in for when the store is back); one that asks fails as it would
  // lazily.
  store.down = true
  record()
  const plain = await c.get('/plain/')
  assert.equal(plain.status, 200)
  assert.equal(plain.headers.vary, undefined)
  assert.equal(plain.headers['set-cookie'], undefined)
  const failing = await c.get('/page/')
  assert.equal(failing.status, 500)
  const failingLazy = await lazy.get('/page/')
  assert.equal(failingLazy.status, 500, 'as without preloading')
  store.down = false
  assert.deepEqual((await c.get('/page/')).json(), { user: ann.username, rows: [[7]] }, 'still signed in')

  // The user deleted meanwhile: anonymous, on the page that asks and on one that does not.
  await User.objects.filter({ id: ann.id }).delete()
  assert.deepEqual((await c.get('/page/')).json(), { user: null, rows: [[7]] })
  assert.equal((await c.get('/plain/')).status, 200)
  for (const x of [c, lazy, anon]) await x.close()
}

test('SQLite: AUTH_PRELOAD_USER loads the user before the view; lazy by default; errors as before', async () => {
  setConnection(connect('sqlite::memory:'))
  await migrateBuiltins({ permissions: false })
  await behaviour()
  await closeAll()
})

test('PostgreSQL with db.pipeline: the user\'s statement and the view\'s leave in one write', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  pgUrl = url
  setConnection(connect(await createSchema(url, schema), { pipeline: 2 }))
  await migrateBuiltins({ permissions: false })
  await behaviour()

  const bob = await createUser({ username: 'bob', password: 'correct horse battery' })
  const store = new RemoteStore()
  const pgPort = portOf(url, 5432)
  for (const [preload, expected] of [[true, 1], [false, 2]] as const) {
    const c = new Client(app(store, preload))
    c.cookies.set('sessionid', store.loggedIn(bob))
    assert.deepEqual((await c.get('/page/')).json(), { user: 'bob', rows: [[7]] }, 'warm: statements parsed')
    const writes = countSocketWrites([pgPort])
    assert.deepEqual((await c.get('/page/')).json(), { user: 'bob', rows: [[7]] })
    assert.deepEqual(writes.stop(), [expected], `${preload ? 'preloaded' : 'lazy'}: PostgreSQL writes per page`)
    await c.close()
  }
})
