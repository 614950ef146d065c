// nginx's proxy_cache in front of the proxy: serves fresh entries, serves stale ones while one
// background refresh runs (stale-while-revalidate) or when the upstream fails (stale-if-error),
// and lets exactly one request per key reach the upstream on concurrent misses (cache lock).
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { EdgeContext } from '../context.ts'
import type { Origin, ProxyCache } from '../proxy/action.ts'
import type { ClientSink } from '../proxy/client-sink.ts'
import type { ForwardJob, OutboundRequest, Resumable, ResponseSink } from '../proxy/forward.ts'
import { downstreamResponseHeaders } from '../proxy/headers.ts'
import type { Upstream } from '../upstream/upstream.ts'
import { freshness } from './freshness.ts'
import { resolveCacheSettings, type CacheSettings } from './settings.ts'
import { MemoryStore, type CacheEntry, type CacheStore } from './store.ts'

/** REVALIDATED: the entry was stale, the upstream answered 304 to a conditional request (nginx's name). */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'BYPASS' | 'EXPIRED' | 'REVALIDATED'

/** The cache key: nginx's default `$scheme$proxy_host$request_uri`, with the method. HEAD uses GET's. */
export function cacheKey(method: string, scheme: string, host: string, url: string): string {
  return `${method === 'HEAD' ? 'GET' : method} ${scheme}://${host}${url}`
}

/** What concurrent misses of one key wait for. */
type FlightResult = { kind: 'entry'; entry: CacheEntry; status: CacheStatus } | { kind: 'pass' } | { kind: 'error'; status: number; reason: string }
interface Flight { promise: Promise<FlightResult>; resolve(r: FlightResult): void; settled: boolean }

function flight(): Flight {
  let resolve!: (r: FlightResult) => void
  const f: Flight = { promise: new Promise((r) => { resolve = r }), settled: false, resolve: (r) => { if (!f.settled) { f.settled = true; resolve(r) } } }
  return f
}

/** The client's own conditionals and ranges would shape the response the cache stores (nginx drops them too). */
const CLIENT_CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'range', 'if-range']

/** The request a cache fill sends: no client conditionals; the stale entry's validators instead. */
function fillRequest(out: OutboundRequest, stale: CacheEntry | undefined): OutboundRequest {
  const headers = { ...out.headers }
  for (const h of CLIENT_CONDITIONALS) delete headers[h]
  if (stale && stale.status === 200) {
    if (stale.headers.etag !== undefined) headers['if-none-match'] = String(stale.headers.etag)
    if (stale.headers['last-modified'] !== undefined) headers['if-modified-since'] = String(stale.headers['last-modified'])
  }
  return { ...out, headers }
}

function varyValues(names: readonly string[], headers: Record<string, string | string[] | undefined>): string {
  let s = ''
  for (const n of names) {
    const v = headers[n]
    s += `${n}=${Array.isArray(v) ? v.join(', ') : v ?? ''}\n`
  }
  return s
}

export interface ResponseCache extends ProxyCache {
  readonly settings: CacheSettings
  readonly store: CacheStore
  /** Removes every variant stored under `key` (see cacheKey); returns how many. */
  purge(key: string): number
  /** Counters since start, for status pages and tests. */
  stats(): Record<CacheStatus, number>
}

export interface ResponseCacheOptions {
  store?: CacheStore
  clock?: () => number
}

/**
 * @example
 *   const cache = createResponseCache({ maxSize: '128mb', purge: true })
 *   const action = createProxyAction(pool, { cache })
 *   cache.purge(cacheKey('GET', 'https', 'shop.example', '/products?page=2'))
 */
export function createResponseCache(given: Record<string, unknown> | CacheSettings = {}, opts: ResponseCacheOptions = {}): ResponseCache {
  const settings = resolveCacheSettings(given as Record<string, unknown>)
  const store = opts.store ?? new MemoryStore(settings.maxSize)
  const clock = opts.clock ?? Date.now
  const statusHeader = settings.statusHeader.toLowerCase()
  const purgeAllow = new Set(settings.purgeAllow.map(String))
  const flights = new Map<string, Flight>()
  const counts: Record<CacheStatus, number> = { HIT: 0, MISS: 0, STALE: 0, BYPASS: 0, EXPIRED: 0, REVALIDATED: 0 }

  function label(headers: OutgoingHttpHeaders, status: CacheStatus) {
    counts[status]++
    if (statusHeader) headers[statusHeader] = status
  }

  function lookup(primary: string, ctx: EdgeContext): CacheEntry | undefined {
    const vary = store.varyOf(primary)
    if (!vary) return undefined
    return store.get(primary, varyValues(vary, ctx.req.headers))
  }

  function serve(ctx: EdgeContext, entry: CacheEntry, status: CacheStatus): void {
    const res = ctx.res as ServerResponse
    const now = clock()
    const headers: OutgoingHttpHeaders = { ...entry.headers, age: String(entry.initialAge + Math.max(0, Math.floor((now - entry.storedAt) / 1000))) }
    label(headers, status)
    ctx.notes.cache = status
    const inm = ctx.req.headers['if-none-match']
    const etag = entry.headers.etag
    if (inm && etag && entry.status === 200 && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === String(etag).replace(/^W\//, '') || t.trim() === '*')) {
      delete headers['content-length']
      res.writeHead(304, headers)
      res.end()
      return
    }
    headers['content-length'] = entry.body.length
    res.writeHead(entry.status, headers)
    if (ctx.req.method === 'HEAD') res.end()
    else res.end(entry.body)
  }

  /** Fetches from the upstream, tees into the cache, and settles the key's flight. */
  async function fill(ctx: EdgeContext, out: OutboundRequest, origin: Origin, primary: string, f: Flight, stale: CacheEntry | undefined, client: ClientSink | undefined, status: CacheStatus): Promise<void> {
    const sink = new TeeSink(ctx, out, primary, f, stale, client, status)
    const { job, done } = origin.forward(ctx, out, sink)
    sink.job = job
    if (client) ctx.res.once('close', () => { if (!ctx.res.writableFinished) sink.clientGone() })
    const outcome = await done
    flights.delete(primary)
    if (outcome.ok) return
    if (stale && clock() < stale.staleIfErrorUntil) {
      f.resolve({ kind: 'entry', entry: stale, status: 'STALE' })
      if (client) serve(ctx, stale, 'STALE')
      return
    }
    f.resolve({ kind: 'error', status: outcome.status, reason: outcome.reason })
    if (client && outcome.reason !== 'client closed') origin.sendError(ctx, outcome.status, outcome.reason)
  }

  class TeeSink implements ResponseSink {
    job: ForwardJob | undefined
    #chunks: Buffer[] = []
    #size = 0
    #collecting = false
    #discard = false
    #client: ClientSink | undefined
    #entry: CacheEntry | undefined

    constructor(
      readonly ctx: EdgeContext,
      readonly out: OutboundRequest,
      readonly primary: string,
      readonly f: Flight,
      readonly stale: CacheEntry | undefined,
      client: ClientSink | undefined,
      readonly status: CacheStatus,
    ) {
      this.#client = client
    }

    clientGone() {
      this.#client = undefined
      if (!this.#collecting && !this.#discard) this.job?.abort()
    }

    start(code: number, raw: OutgoingHttpHeaders, upstream: Upstream): void {
      const now = clock()
      if (code >= 500 && this.stale && now < this.stale.staleIfErrorUntil) {
        // stale-if-error: the upstream answered 5xx; the old entry is better than the error.
        this.#discard = true
        this.f.resolve({ kind: 'entry', entry: this.stale, status: 'STALE' })
        if (this.#client) serve(this.ctx, this.stale, 'STALE')
        this.#client = undefined
        return
      }
      if (code === 304 && this.stale) {
        // Revalidated: the stored body is still good; the 304's headers update the stored ones.
        this.#discard = true
        const merged = { ...this.stale.headers, ...downstreamResponseHeaders(raw as Record<string, string | string[] | undefined>) }
        delete merged['content-length']
        const fr = freshness(this.stale.status, merged, { now, defaultTtl: settings.defaultTtl, authorized: this.ctx.req.headers.authorization !== undefined })
        const entry: CacheEntry = {
          ...this.stale,
          headers: { ...merged, 'content-length': this.stale.body.length },
          storedAt: now,
          initialAge: fr.age,
          freshUntil: now + fr.freshMs,
          staleWhileRevalidateUntil: now + fr.freshMs + fr.staleWhileRevalidateMs,
          staleIfErrorUntil: now + fr.freshMs + fr.staleIfErrorMs,
        }
        if (fr.storable) store.set(this.primary, entry)
        this.f.resolve({ kind: 'entry', entry, status: 'HIT' })
        if (this.#client) serve(this.ctx, entry, 'REVALIDATED')
        this.#client = undefined
        return
      }
      const headers = downstreamResponseHeaders(raw as Record<string, string | string[] | undefined>)
      const fr = freshness(code, headers, { now, defaultTtl: settings.defaultTtl, authorized: this.ctx.req.headers.authorization !== undefined })
      const length = Number(headers['content-length'] ?? 0)
      if (fr.storable && this.out.method === 'GET' && !(length > settings.maxEntrySize)) {
        this.#collecting = true
        this.#entry = {
          status: code,
          headers,
          body: Buffer.alloc(0),
          storedAt: now,
          initialAge: fr.age,
          freshUntil: now + fr.freshMs,
          staleWhileRevalidateUntil: now + fr.freshMs + fr.staleWhileRevalidateMs,
          staleIfErrorUntil: now + fr.freshMs + Math.max(fr.staleIfErrorMs, 0),
          vary: fr.vary,
          varyValues: varyValues(fr.vary, this.ctx.req.headers),
          size: 0,
        }
      } else {
        this.ctx.notes.cacheSkip = fr.reason ?? 'not stored'
        this.f.resolve({ kind: 'pass' })
      }
      this.#client?.start(code, raw, upstream)
    }

    data(chunk: Buffer, flow: Resumable): boolean {
      if (this.#discard) return true
      if (this.#collecting) {
        this.#size += chunk.length
        if (this.#size > settings.maxEntrySize) {
          this.#collecting = false
          this.#chunks = []
          this.f.resolve({ kind: 'pass' })
          if (!this.#client) { this.job?.abort(); return true }
        } else {
          this.#chunks.push(chunk)
        }
      }
      return this.#client ? this.#client.data(chunk, flow) : true
    }

    end(): void {
      if (this.#discard) return
      if (this.#collecting && this.#entry) {
        const entry = this.#entry
        entry.body = Buffer.concat(this.#chunks, this.#size)
        entry.size = entry.body.length + 512 + this.primary.length + entry.varyValues.length
        store.set(this.primary, entry)
        this.f.resolve({ kind: 'entry', entry, status: 'HIT' })
      }
      this.#client?.end()
    }

    fail(err: Error): void {
      this.f.resolve({ kind: 'pass' })
      this.#client?.fail(err)
    }
  }

  /** stale-while-revalidate: one background refresh per key; clients keep getting the stale entry. */
  function revalidate(ctx: EdgeContext, out: OutboundRequest, origin: Origin, primary: string, stale: CacheEntry) {
    if (flights.has(primary)) return
    const f = flight()
    flights.set(primary, f)
    const bg: OutboundRequest = { ...fillRequest(out, stale), body: null, method: 'GET' }
    void fill(ctx, bg, origin, primary, f, stale, undefined, 'MISS').catch(() => { flights.delete(primary) })
  }

  function pass(ctx: EdgeContext, out: OutboundRequest, origin: Origin, status: CacheStatus | undefined): Promise<void> {
    if (status) ctx.notes.cache = status
    const sink = origin.clientSink(ctx, status ? (h) => label(h, status) : undefined)
    const { job, done } = origin.forward(ctx, out, sink)
    ctx.res.once('close', () => { if (!ctx.res.writableFinished) job.abort() })
    return done.then((o) => {
      if (!o.ok && o.reason !== 'client closed') origin.sendError(ctx, o.status, o.reason)
    })
  }

  function purgeRequest(ctx: EdgeContext): void {
    const res = ctx.res as ServerResponse
    let code = 403
    let body: Record<string, unknown> = { error: 'PURGE is not allowed from this address' }
    if (purgeAllow.has(ctx.clientAddress)) {
      const key = cacheKey('GET', ctx.scheme, ctx.host, ctx.path + ctx.search)
      const purged = store.purge(key)
      code = purged > 0 ? 200 : 404
      body = { key, purged }
    }
    const text = JSON.stringify(body)
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
    res.end(text)
  }

  async function handle(ctx: EdgeContext, out: OutboundRequest, origin: Origin): Promise<void> {
    const method = out.method
    if (method === 'PURGE' && settings.purge) return purgeRequest(ctx)
    if (method !== 'GET' && method !== 'HEAD') return pass(ctx, out, origin, undefined)
    const h = ctx.req.headers
    if ((h.cookie !== undefined && !settings.cacheCookies) || (h.authorization !== undefined && !settings.cacheAuthorized)) {
      return pass(ctx, out, origin, 'BYPASS')
    }
    const primary = cacheKey(method, ctx.scheme, ctx.host, ctx.path + ctx.search)
    const found = lookup(primary, ctx)
    const now = clock()
    if (found && now < found.freshUntil) return serve(ctx, found, 'HIT')
    if (found && now < found.staleWhileRevalidateUntil) {
      serve(ctx, found, 'STALE')
      revalidate(ctx, out, origin, primary, found)
      return
    }
    const status: CacheStatus = found ? 'EXPIRED' : 'MISS'
    // HEAD never fills the cache (its response has no body to store).
    if (method === 'HEAD') return pass(ctx, out, origin, status)
    const running = flights.get(primary)
    if (running) {
      const r = await running.promise
      if (r.kind === 'entry' && r.entry.varyValues === varyValues(r.entry.vary, h)) return serve(ctx, r.entry, r.status)
      if (r.kind === 'error') return origin.sendError(ctx, r.status, r.reason)
      return pass(ctx, out, origin, status)
    }
    const f = flight()
    flights.set(primary, f)
    ctx.notes.cache = status
    const client = origin.clientSink(ctx, (headers) => label(headers, status))
    return fill(ctx, fillRequest(out, found), origin, primary, f, found, client, status)
  }

  return {
    settings,
    store,
    handle,
    purge: (key) => store.purge(key),
    stats: () => ({ ...counts }),
  }
}
