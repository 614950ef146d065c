// A request's session: loaded from the store on first use (a view that never touches it costs
// no store access), saved by the middleware only when changed.
import type { HttpRequest } from '../request.ts'
import type { SessionRecord, SessionStore } from './store.ts'

export interface SessionPolicy {
  /** Absolute lifetime, seconds. */
  age: number
  /** Idle timeout, seconds (0 = off). */
  idle: number
}

// Refreshing the activity stamp is a write; do it at most this often.
const ACTIVITY_RESOLUTION_MS = 60_000

/**
 * @example
 * const s = getSession(req)
 * const cart = (await s.get<number[]>('cart')) ?? []
 * await s.set('cart', [...cart, id])
 */
export class Session {
  readonly store: SessionStore
  /** The cookie value the request came with (undefined: none). */
  readonly incoming: string | undefined
  #policy: SessionPolicy
  #loading?: Promise<void>
  #record?: SessionRecord
  #key: string | undefined
  /** True once anything read or wrote the session (the response then varies on Cookie). */
  accessed = false
  /** True when the data changed and must be saved. */
  modified = false
  /** The stored record must be rewritten even without changes (activity stamp, new key). */
  #dirty = false

  constructor(store: SessionStore, incoming: string | undefined, policy: SessionPolicy) {
    this.store = store
    this.incoming = incoming
    this.#key = incoming
    this.#policy = policy
  }

  /** The current cookie value (key) or undefined for a session never saved. */
  get key(): string | undefined {
    return this.#key
  }

  #fresh(): SessionRecord {
    const now = Date.now()
    return { data: {}, expiresAt: now + this.#policy.age * 1000, lastActivity: now }
  }

  /** Loads the record once. Bad, expired or unknown cookies give an empty new session. */
  load(): Promise<void> {
    this.accessed = true
    return this.prefetch()
  }

  /**
   * Starts loading the record (once, as load()) without counting as a use: the response varies on
   * Cookie, and an empty session loses its cookie, only once something reads it (get, getLoaded,
   * load…). For a caller that loads ahead of need (auth's AUTH_PRELOAD_USER): if the store fails,
   * a page that never reads the session is answered as if nothing had tried.
   */
  prefetch(): Promise<void> {
    return (this.#loading ??= this.#load())
  }

  /**
   * Starts loading through `loader` instead of the store's load(), for a caller that fetches the
   * session together with something else in one query (auth: the session and its user). The
   * usual expiry checks apply. Like prefetch(), not a use by itself. False when loading had
   * already begun (then read it as usual).
   */
  loadVia(loader: (cookie: string) => Promise<SessionRecord | null>): boolean {
    if (this.#loading) return false
    this.#loading = this.#load(loader)
    return true
  }

  // Not async: with the journey's promise hooks on, every await costs a promise and its hook
  // calls; a then-chain makes only the promises it needs (a session read is on every page).
  #load(loader?: (cookie: string) => Promise<SessionRecord | null>): Promise<void> {
    const cookie = this.incoming
    if (cookie === undefined || cookie === '') {
      this.#adopt(null, Date.now())
      return Promise.resolve()
    }
    let loading: Promise<SessionRecord | null>
    try {
      // Promise.resolve returns a native promise as it is (a store may answer with a plain value).
      loading = Promise.resolve(loader ? loader(cookie) : this.store.load(cookie))
    } catch (e) {
      return Promise.reject(e)
    }
    return loading.then((r) => {
      const now = Date.now()
      if (r && (r.expiresAt <= now || (this.#policy.idle > 0 && now - r.lastActivity > this.#policy.idle * 1000))) {
        return Promise.resolve(this.store.delete(cookie)).then(() => this.#adopt(null, now))
      }
      this.#adopt(r, now)
    })
  }

  /** The loaded record (null: none, expired or unknown) becomes the session's. */
  #adopt(r: SessionRecord | null, now: number): void {
    if (r === null) {
      this.#key = undefined
      this.#record = this.#fresh()
      return
    }
    if (this.#policy.idle > 0 && now - r.lastActivity > ACTIVITY_RESOLUTION_MS) {
      r.lastActivity = now
      this.#dirty = true
    }
    this.#record = r
  }

  // Not async: a read of a loaded session is one resolved promise (auth reads two keys per request).
  get<T = unknown>(name: string): Promise<T | undefined> {
    const loading = this.load()
    const r = this.#record
    if (r !== undefined) return Promise.resolve(r.data[name] as T | undefined)
    return loading.then(() => this.#record!.data[name] as T | undefined)
  }

  /**
   * The value under `name` of a session already loaded (after an awaited read, or load()), with
   * no promise. Throws when the session has not been loaded yet.
   * @example await s.load(); const cart = s.getLoaded<number[]>('cart') ?? []
   */
  getLoaded<T = unknown>(name: string): T | undefined {
    const r = this.#record
    if (r === undefined) throw new Error('Session.getLoaded: the session is not loaded yet (await load() or get() first)')
    this.accessed = true
    return r.data[name] as T | undefined
  }

  async has(name: string): Promise<boolean> {
    await this.load()
    return Object.hasOwn(this.#record!.data, name)
  }

  async set(name: string, value: unknown): Promise<void> {
    await this.load()
    this.#record!.data[name] = value
    this.modified = true
  }

  /** Removes a key; returns its old value. */
  async pop<T = unknown>(name: string): Promise<T | undefined> {
    await this.load()
    const data = this.#record!.data
    if (!Object.hasOwn(data, name)) return undefined
    const v = data[name] as T
    delete data[name]
    this.modified = true
    return v
  }

  async delete(name: string): Promise<void> {
    await this.pop(name)
  }

  async keys(): Promise<string[]> {
    await this.load()
    return Object.keys(this.#record!.data)
  }

  /** A copy of the data. */
  async items(): Promise<Record<string, unknown>> {
    await this.load()
    return { ...this.#record!.data }
  }

  /** Empties the data but keeps the key. */
  async clear(): Promise<void> {
    await this.load()
    this.#record!.data = {}
    this.modified = true
  }

  /** True when the session holds no data (after loading). */
  get isEmpty(): boolean {
    return !this.#record || Object.keys(this.#record.data).length === 0
  }

  /** Deletes the stored session and starts an empty one with no key (logout). */
  async flush(): Promise<void> {
    await this.load()
    const old = this.#key
    this.#record = this.#fresh()
    this.#key = undefined
    this.modified = true
    if (old !== undefined) await this.store.delete(old)
  }

  /**
   * Keeps the data under a new key (login): an attacker who planted a session id before the login
   * holds a dead one after it. The absolute lifetime restarts.
   */
  async cycleKey(): Promise<void> {
    await this.load()
    const old = this.#key
    const now = Date.now()
    this.#record = { data: this.#record!.data, expiresAt: now + this.#policy.age * 1000, lastActivity: now }
    this.#key = undefined
    this.modified = true
    if (old !== undefined) await this.store.delete(old)
  }

  /** Seconds until the session ends (absolute expiry). */
  get expiresAt(): number {
    return this.#record?.expiresAt ?? Date.now() + this.#policy.age * 1000
  }

  /** Whether the middleware has to write the record. */
  needsSave(everyRequest: boolean): boolean {
    return this.#record !== undefined && !this.isEmpty && (this.modified || this.#dirty || everyRequest)
  }

  /** Writes the record; returns the cookie value. The middleware calls this. */
  async save(): Promise<string> {
    await this.load()
    this.#key = await this.store.save(this.#key, this.#record!)
    this.modified = false
    this.#dirty = false
    return this.#key
  }
}

const NO_SESSION = 'No session on this request: add sessionMiddleware to the app\'s middleware (before anything that uses req.state.session)'

/** The request's Session (set by the session middleware). */
export function getSession(req: HttpRequest): Session {
  const s = req.state.session
  if (!(s instanceof Session)) throw new Error(NO_SESSION)
  return s
}

/** The request's Session or undefined when the session middleware is not installed. */
export function maybeSession(req: HttpRequest): Session | undefined {
  const s = req.state.session
  return s instanceof Session ? s : undefined
}
