// authenticate / login / logout / the user of a request (Django's contrib.auth functions).
import { createHmac } from 'node:crypto'
import type { HttpRequest } from '../request.ts'
import { getSession, maybeSession, type Session } from '../sessions/session.ts'
import { DbSessionStore } from '../sessions/db-store.ts'
import { User } from './models.ts'
import { DoesNotExist } from '../../db/index.ts'
import { runDummyHash } from './hashers.ts'
import { AnonymousUser, type AnyUser, type AuthUser } from './user.ts'
import { rotateCsrfToken } from '../csrf/state.ts'

export const SESSION_USER_ID = '_auth_user_id'
export const SESSION_USER_HASH = '_auth_user_hash'

/** The one message for a wrong password, an unknown user and an inactive account. */
export const INVALID_LOGIN_MESSAGE = 'Please enter a correct username and password. Note that both fields may be case-sensitive.'

export interface Credentials {
  username: string
  password: string
}

/**
 * The user whose credentials these are, or null. An unknown username costs one password hash too
 * (a dummy), so timing does not tell which usernames exist; inactive users are refused.
 * @example const user = await authenticate(req, { username, password })
 */
export async function authenticate(_req: HttpRequest | null, creds: Credentials): Promise<AuthUser | null> {
  const { username, password } = creds
  if (typeof username !== 'string' || typeof password !== 'string' || username.length > 150) {
    await runDummyHash(typeof password === 'string' ? password : '')
    return null
  }
  const user = (await User.objects.filter({ username }).first()) as AuthUser | null
  if (!user) {
    await runDummyHash(password)
    return null
  }
  if (!(await user.checkPassword(password))) return null
  return user.isActive ? user : null
}

// sessionAuthHash runs on every authenticated request; its inputs (the key and the user's salted
// password hash) rarely change, so the result is remembered. Bounded: cleared when full.
const authHashes = new Map<string, string>()
const MAX_AUTH_HASHES = 10_000

/** HMAC of the password hash: changing the password logs out every other session. */
export function sessionAuthHash(req: HttpRequest, user: AuthUser): string {
  const key: string = req.app.settings.SECRET_KEY
  const memo = `${key.length}:${key}${user.password}`
  let h = authHashes.get(memo)
  if (h === undefined) {
    h = createHmac('sha256', `causeway.auth.session:${key}`).update(user.password).digest('base64url')
    if (authHashes.size >= MAX_AUTH_HASHES) authHashes.clear()
    authHashes.set(memo, h)
  }
  return h
}

/**
 * Logs `user` in: a new session key (no fixation), the user id and password hash in the session,
 * lastLogin updated, a new CSRF token.
 * @example if (user) { await login(req, user); return redirect('/') }
 */
export async function login(req: HttpRequest, user: AuthUser): Promise<void> {
  const session = getSession(req)
  const current = await session.get(SESSION_USER_ID)
  if (current !== undefined && current !== user.id) await session.flush() // another user: drop their data
  else await session.cycleKey()
  await session.set(SESSION_USER_ID, user.id)
  await session.set(SESSION_USER_HASH, sessionAuthHash(req, user))
  user.lastLogin = new Date()
  await User.objects.filter({ id: user.id }).update({ lastLogin: user.lastLogin })
  setUser(req, user)
  rotateCsrfToken(req)
}

/** Logs out: the session is deleted and emptied, the user becomes anonymous. */
export async function logout(req: HttpRequest): Promise<void> {
  const session = maybeSession(req)
  if (session) await session.flush()
  setUser(req, new AnonymousUser())
}

/** Loads the session's user (AnonymousUser when there is none, it is inactive, or its password changed). */
// Not async (it runs on every page that shows the user): a then-chain instead of an async frame
// and its awaits, each a promise more (and its hook calls with the journey's promise hooks on).
export function getUser(req: HttpRequest): Promise<AnyUser> {
  return loadUser(req, sameUser)
}

const sameUser = (u: AnyUser): AnyUser => u

// getUser with `done` applied to the user in the chain's last reaction (requestUser remembers it
// there: no reaction of its own, one promise less per page). `ahead`: loaded before anything asked
// (preloadUser), so starting the load is not a use of the session; reading the user id is.
function loadUser(req: HttpRequest, done: (u: AnyUser) => AnyUser, ahead = false): Promise<AnyUser> {
  const session = maybeSession(req)
  if (!session) return Promise.resolve(done(new AnonymousUser()))
  // Database sessions: the session row and its user in one query when nothing loaded the
  // session yet (Django needs two round trips here).
  let joined: AuthUser | null = null
  const store = session.store
  if (store instanceof DbSessionStore && session.incoming !== undefined) {
    session.loadVia((cookie) => store.loadWithRow<AuthUser>(cookie, User, SESSION_USER_ID).then((r) => {
      joined = r.row
      return r.record
    }))
  }
  // load() hands back the session's one loading promise: reading the id in its reaction
  // (getLoaded) spares the promise get() would make on top of it.
  return (ahead ? session.prefetch() : session.load()).then(() => {
    const id = session.getLoaded(SESSION_USER_ID)
    if (typeof id !== 'number') return done(new AnonymousUser())
    // Else (another store, a session already loaded, a row that is not this id's): get() by the
    // primary key, one cached prepared statement. The row is always read fresh from the database,
    // so a deactivated user or a changed password takes effect on the next request everywhere.
    if (joined !== null && (joined as AuthUser).id === id) return finish(checkedUser(req, session, joined), done)
    return User.objects.get({ id }).then((user) => finish(checkedUser(req, session, user as AuthUser), done), (e: unknown) => {
      if (e instanceof DoesNotExist) return done(new AnonymousUser())
      throw e
    })
  })
}

function finish(u: AnyUser | Promise<AnyUser>, done: (u: AnyUser) => AnyUser): AnyUser | Promise<AnyUser> {
  return u instanceof Promise ? u.then(done) : done(u)
}

/** The session's user if it is active and the session was made with its current password. */
function checkedUser(req: HttpRequest, session: Session, user: AuthUser): AnyUser | Promise<AnyUser> {
  if (!user.isActive) return new AnonymousUser()
  // The session is loaded by now (its user id was read): no promise for this read.
  const hash = session.getLoaded(SESSION_USER_HASH)
  if (typeof hash !== 'string' || hash !== sessionAuthHash(req, user)) {
    // The password changed since this session logged in.
    return session.flush().then(() => new AnonymousUser())
  }
  return user
}

const LOADED = Symbol('causeway.auth.user')

interface UserState {
  [LOADED]?: Promise<AnyUser>
  [key: string]: unknown
}

/** Sets the request's user (login/logout do it). */
export function setUser(req: HttpRequest, user: AnyUser): void {
  const st = req.state as UserState
  st[LOADED] = Promise.resolve(user)
  Object.defineProperty(req.state, 'user', { value: user, configurable: true, enumerable: true, writable: true })
}

/**
 * The request's user, loaded on first call (one session read and one query), then remembered.
 * `req.state.user` holds it once loaded; templates, loginRequired and the auth views call this.
 * @example const user = await requestUser(req); if (user.isAuthenticated) …
 */
export function requestUser(req: HttpRequest): Promise<AnyUser> {
  const st = req.state as UserState
  return (st[LOADED] ??= loadUser(req, rememberer(req)))
}

/** Sets `req.state.user` to the loaded user (in the load's last reaction) and hands it on. */
function rememberer(req: HttpRequest): (u: AnyUser) => AnyUser {
  return (u) => {
    Object.defineProperty(req.state, 'user', { value: u, configurable: true, enumerable: true, writable: true })
    return u
  }
}

const ignore = (): void => {}

/**
 * Starts loading the request's user before anything asks for it (AUTH_PRELOAD_USER); requestUser()
 * then answers with this load (same promise, same query). Returns a promise that settles once the
 * user's query has been sent: a view run after it issues its first statements in the same tick,
 * so on pipelined PostgreSQL (db.pipeline) they leave with the user's in one write. It rejects
 * when the session store failed: run the view either way (asking for the user then rejects, as a
 * lazy load would). Undefined when there is nothing to wait for: no session cookie (anonymous, no
 * query; the user is then loaded lazily as usual), a user already loaded, or a database session
 * (read together with its user in the query already sent).
 * @example const sent = preloadUser(req); return sent === undefined ? next(req) : sent.then(run, run)
 */
export function preloadUser(req: HttpRequest): Promise<void> | undefined {
  const session = maybeSession(req)
  const st = req.state as UserState
  if (session === undefined || session.incoming === undefined || st[LOADED] !== undefined) return undefined
  const user = (st[LOADED] = loadUser(req, rememberer(req), true))
  // A page that never asks must not see its failure as an unhandled rejection; one that asks gets
  // the rejection from requestUser(), as from a lazy load.
  user.then(undefined, ignore)
  if (session.store instanceof DbSessionStore) return undefined
  // The user's query is sent in the reaction loadUser put on the session's loading first; the
  // caller's reaction, put on it after, runs right after that one.
  return session.prefetch()
}
