// Redis sessions: one key per session with a TTL, so Redis expires them itself.
import { Redis } from 'ioredis'
import { decodeRecord, encodeRecord, newSessionKey, SESSION_KEY_RE, type SessionRecord, type SessionStore } from './store.ts'

export interface RedisSessionStoreOptions {
  /** A client to share, or a URL (default REDIS_URL or redis://127.0.0.1:6379). */
  client?: Redis
  url?: string
  prefix?: string
}

// The stored record, unless it is garbled or past its absolute expiry.
function live(v: string | null): SessionRecord | null {
  const r = v === null ? null : decodeRecord(v)
  return r && r.expiresAt > Date.now() ? r : null
}

/** @example new RedisSessionStore({ url: process.env.REDIS_URL, prefix: 'shop:session:' }) */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis'
  readonly client: Redis
  readonly #prefix: string
  readonly #owned: boolean
  #corked = false

  constructor(opts: RedisSessionStoreOptions = {}) {
    this.#owned = !opts.client
    this.client = opts.client ?? new Redis(opts.url || process.env.REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 2 })
    this.#prefix = opts.prefix ?? 'causeway:session:'
  }

  load(cookie: string): Promise<SessionRecord | null> {
    if (!SESSION_KEY_RE.test(cookie)) return Promise.resolve(null)
    this.#corkForTurn()
    return this.client.get(this.#prefix + cookie).then(live)
  }

  async save(cookie: string | undefined, record: SessionRecord): Promise<string> {
    const ttl = Math.max(1, record.expiresAt - Date.now())
    const data = encodeRecord(record)
    if (cookie !== undefined && SESSION_KEY_RE.test(cookie)) {
      // XX: only overwrite a session that still exists; one deleted meanwhile gets a new key.
      if (await this.client.set(this.#prefix + cookie, data, 'PX', ttl, 'XX')) return cookie
    }
    for (;;) {
      const key = newSessionKey()
      if (await this.client.set(this.#prefix + key, data, 'PX', ttl, 'NX')) return key
    }
  }

  async delete(cookie: string): Promise<void> {
    if (SESSION_KEY_RE.test(cookie)) await this.client.del(this.#prefix + cookie)
  }

  async clearExpired(): Promise<number> {
    return 0 // keys carry a TTL
  }

  // Session reads issued in the same turn of the event loop leave in one write instead of one
  // each: the socket stays corked until the loop's check phase (setImmediate), right after the
  // I/O callbacks of this turn. Not just the tick: with the user loaded before the view
  // (AUTH_PRELOAD_USER) a read starts as each request arrives, and the requests that arrive
  // together are read in separate callbacks of one turn. Each GET is still its own command with
  // its own reply; only the syscalls are shared. Until the client is ready, ioredis queues
  // commands itself.
  #corkForTurn(): void {
    if (this.#corked || this.client.status !== 'ready') return
    const stream = this.client.stream as { cork?: () => void; uncork?: () => void; writable?: boolean } | undefined
    if (!stream?.cork || !stream.uncork || !stream.writable) return
    this.#corked = true
    stream.cork()
    setImmediate(RedisSessionStore.#uncork, this, stream as { uncork: () => void })
  }

  static #uncork(s: RedisSessionStore, stream: { uncork: () => void }): void {
    s.#corked = false
    stream.uncork()
  }

  async close(): Promise<void> {
    if (this.#owned) this.client.disconnect()
  }
}

