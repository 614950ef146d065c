// Sends one request to a pool: pick an upstream, dispatch over its keep-alive pool, stream the
// response into a sink with backpressure, retry on another upstream when that is safe, and feed
// passive health. The response side is a sink so the cache can tee it; the client's response is
// the common sink.
import type { OutgoingHttpHeaders } from 'node:http'
import type { EdgeRequest } from '../context.ts'
import type { UpstreamController, UpstreamHandler } from '../upstream/h1-exchange.ts'
import type { UpstreamPool } from '../upstream/pool.ts'
import type { SelectContext } from '../upstream/policy.ts'
import type { Upstream } from '../upstream/upstream.ts'
import { BodyRelay } from './body-relay.ts'

/** What a full sink resumes once drained (the upstream request's controller). */
export interface Resumable {
  resume(): void
}

/** Where the upstream's response goes. */
export interface ResponseSink {
  start(status: number, headers: OutgoingHttpHeaders, upstream: Upstream): void
  /** Returns false when full; the sink then calls `flow.resume()` once it has drained. */
  data(chunk: Buffer, flow: Resumable): boolean
  end(): void
  /** The upstream failed after `start` (reset or read timeout mid-body). */
  fail(err: Error): void
  /**
   * True when nothing refers to the chunk last given to data() any more (see the upstream
   * client's chunkReleased); a sink without it is taken to keep every chunk.
   */
  released?(): boolean
}

export interface OutboundRequest {
  method: string
  /** Path and query, as received. */
  path: string
  /** Headers for the upstream; `host` is set per attempt unless `clientHost` is kept. */
  headers: Record<string, string | string[]>
  /** The client's request when it has a body, else null. */
  body: EdgeRequest | null
  /** Host to send when preserving it; undefined = each upstream's own host. */
  clientHost: string | undefined
}

export type ForwardOutcome =
  | { ok: true; upstream: Upstream; status: number }
  | { ok: false; status: 400 | 502 | 503 | 504; reason: string; upstream?: Upstream }

/** Idempotent methods (RFC 9110 §9.2.2) may be retried after the request was sent. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
// undici's codes (https upstreams) and the edge's own client's (h1-connection.ts).
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'CW_CONNECT_TIMEOUT', 'CW_HEADERS_TIMEOUT', 'CW_BODY_TIMEOUT'])
const CLIENT_GONE = 'CW_CLIENT_ABORTED'
/**
 * The request itself cannot be sent (a header undici refuses, a body shorter than its
 * Content-Length): the client's fault, so 400 — no retry, and never a mark against the upstream,
 * or one bad client could take a whole pool down.
 */
const CLIENT_FAULT = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'CW_INVALID_REQUEST', 'CW_REQ_CONTENT_LENGTH_MISMATCH'])

function code(err: unknown): string {
  return String((err as { code?: string })?.code ?? '')
}

/**
 * One proxied request across its attempts. `abort()` is for the client going away.
 * @example
 *   const job = new ForwardJob(pool, out, ctx, sink)
 *   ctx.res.once('close', () => job.abort())
 *   const outcome = await job.run()
 */
export class ForwardJob {
  readonly pool: UpstreamPool
  readonly out: OutboundRequest
  readonly select: SelectContext
  readonly sink: ResponseSink
  /** Tried first (sticky sessions) when it is available. */
  preferred: Upstream | undefined
  tries = 0
  /** Upstreams tried so far; made on the first retry (most requests need one attempt). */
  #tried: Set<Upstream> | undefined
  #first: Upstream | undefined
  #resolve!: (o: ForwardOutcome) => void
  #attempt: Attempt | undefined
  #clientGone = false
  #lastFailure: ForwardOutcome | undefined

  constructor(pool: UpstreamPool, out: OutboundRequest, select: SelectContext, sink: ResponseSink) {
    this.pool = pool
    this.out = out
    this.select = select
    this.sink = sink
  }

  run(): Promise<ForwardOutcome> {
    return new Promise((resolve) => this.start(resolve))
  }

  /** Like run(), with a callback instead of a promise (the proxy's per-request path). */
  start(done: (o: ForwardOutcome) => void): void {
    this.#resolve = done
    this.#next()
  }

  abort(): void {
    if (this.#clientGone) return
    this.#clientGone = true
    this.#attempt?.abort()
  }

  get clientGone(): boolean {
    return this.#clientGone
  }

  #next() {
    const pool = this.pool
    const max = pool.settings.tries > 0 ? pool.settings.tries : Math.max(pool.members().length, 1)
    let upstream: Upstream | undefined
    if (this.tries < max && !this.#clientGone) {
      const p = this.preferred
      if (this.#first !== undefined && this.#tried === undefined) this.#tried = new Set([this.#first])
      upstream = p && this.tries === 0 && pool.isAvailable(p) ? p : pool.select(this.select, this.#tried)
    }
    if (!upstream) {
      this.#resolve(this.#lastFailure ?? { ok: false, status: 503, reason: this.#clientGone ? 'client closed' : 'no available upstream' })
      return
    }
    this.tries++
    if (this.#tried) this.#tried.add(upstream)
    else this.#first = upstream
    this.#attempt = new Attempt(this, upstream)
    this.#attempt.dispatch()
  }

  /** Called by an attempt that failed before the response started. */
  failed(attempt: Attempt, err: Error) {
    const c = code(err)
    if (CLIENT_FAULT.has(c)) {
      this.#resolve({ ok: false, status: 400, reason: `bad request for upstream: ${err.message}`, upstream: attempt.upstream })
      return
    }
    const clientGone = this.#clientGone || c === CLIENT_GONE
    if (!clientGone) attempt.upstream.recordFailure()
    const timedOut = TIMEOUTS.has(c)
    this.#lastFailure = { ok: false, status: timedOut ? 504 : 502, reason: `${attempt.upstream.address}: ${c ? `${c} (${err.message})` : err.message}`, upstream: attempt.upstream }
    if (clientGone) {
      this.#resolve({ ok: false, status: 502, reason: 'client closed', upstream: attempt.upstream })
      return
    }
    // Only idempotent methods go to another upstream (the issue's rule, stricter than nginx, which
    // also replays a POST whose connect failed): a client that gets a 502 for a POST decides
    // itself whether to send it again. Once the request was sent, only if no body byte was consumed.
    const retry = IDEMPOTENT.has(this.out.method) && (!attempt.requestSent || !attempt.bodyStarted)
    if (retry) this.#next()
    else this.#resolve(this.#lastFailure)
  }

  succeeded(outcome: ForwardOutcome) {
    this.#resolve(outcome)
  }

  /** The upstream's response head could not be relayed (e.g. a header value Node refuses). */
  badResponse(attempt: Attempt, err: Error) {
    this.#resolve({ ok: false, status: 502, reason: `${attempt.upstream.address}: invalid response head (${err.message})`, upstream: attempt.upstream })
  }
}

/** One try against one upstream: the transport's dispatch handler. */
class Attempt implements UpstreamHandler {
  readonly job: ForwardJob
  readonly upstream: Upstream
  requestSent = false
  #relay: BodyRelay | null = null
  #controller: UpstreamController | undefined
  #started = false
  #done = false
  #status = 0
  #badHead: Error | undefined

  constructor(job: ForwardJob, upstream: Upstream) {
    this.job = job
    this.upstream = upstream
  }

  get bodyStarted(): boolean {
    return this.#relay?.started ?? false
  }

  dispatch() {
    const { out } = this.job
    const u = this.upstream
    out.headers.host = out.clientHost ?? u.transport.hostHeader
    if (out.body) this.#relay = new BodyRelay(out.body)
    const timeout = this.job.pool.settings.readTimeout
    u.acquire()
    u.transport.dispatch({
      method: out.method,
      path: out.path,
      headers: out.headers,
      body: this.#relay,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    }, this)
  }

  abort() {
    this.#controller?.abort(Object.assign(new Error('client closed the connection'), { code: CLIENT_GONE }))
  }


  onRequestStart(controller: UpstreamController): void {
    this.#controller = controller
    this.requestSent = true
    if (this.job.clientGone) this.abort()
  }

  onResponseStart(controller: UpstreamController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return // 1xx informational: not forwarded
    this.#status = statusCode
    try {
      this.job.sink.start(statusCode, headers as OutgoingHttpHeaders, this.upstream)
    } catch (err) {
      // Nothing was written to the client yet, so a clean 502 is still possible; no retry, since
      // the upstream did answer.
      this.#badHead = err as Error
      controller.abort(err as Error)
      return
    }
    this.#started = true
  }

  onResponseData(controller: UpstreamController, chunk: Buffer): void {
    if (!this.job.sink.data(chunk, controller)) controller.pause()
  }

  chunkReleased(): boolean {
    return this.job.sink.released?.() === true
  }

  onResponseEnd(): void {
    if (this.#finish()) return
    this.job.sink.end()
    this.job.succeeded({ ok: true, upstream: this.upstream, status: this.#status })
  }

  onResponseError(_c: UpstreamController | undefined, err: Error): void {
    if (this.#finish()) return
    this.#relay?.destroy()
    if (this.#badHead) {
      this.job.badResponse(this, this.#badHead)
      return
    }
    if (!this.#started) {
      this.job.failed(this, err)
      return
    }
    if (code(err) !== CLIENT_GONE && !this.job.clientGone) this.upstream.recordFailure()
    this.job.sink.fail(err)
    this.job.succeeded({ ok: true, upstream: this.upstream, status: this.#status })
  }

  /** Releases the upstream exactly once; true when already finished. */
  #finish(): boolean {
    if (this.#done) return true
    this.#done = true
    this.upstream.release()
    return false
  }
}
