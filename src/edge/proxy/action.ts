// The proxy action a route runs: `createProxyAction(pool, options)` → EdgeAction. Per request it
// builds the outbound request once, lets the cache answer if one is configured, else forwards.
import type { OutgoingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import type { EdgeAction, EdgeContext } from '../context.ts'
import type { UpstreamPool } from '../upstream/pool.ts'
import type { Upstream } from '../upstream/upstream.ts'
import { hasRequestBody } from './body-relay.ts'
import { ClientSink, type HeadDecorator, type SinkFilters } from './client-sink.ts'
import { sendError } from './error-pages.ts'
import { ForwardJob, type ForwardOutcome, type OutboundRequest, type ResponseSink } from './forward.ts'
import { requestHost, upstreamRequestHeaders, type ForwardHeaderOptions } from './headers.ts'
import { appendSetCookie, stickyCookie, stickyTarget } from './sticky.ts'
import { proxyUpgrade } from './upgrade.ts'

/** What the response cache needs from the proxy (implemented by the action, used by src/edge/cache). */
export interface Origin {
  /** Fetches from the pool into `sink`; `decorate` sees the client-bound headers. */
  forward(ctx: EdgeContext, out: OutboundRequest, sink: ResponseSink): { job: ForwardJob; done: Promise<ForwardOutcome> }
  /** A sink writing to the client, with the proxy's own header changes (sticky cookie) plus `extra`. */
  clientSink(ctx: EdgeContext, extra?: HeadDecorator): ClientSink
  sendError(ctx: EdgeContext, status: number, reason: string): void
}

/** A cache the action consults first (see src/edge/cache). */
export interface ProxyCache {
  handle(ctx: EdgeContext, out: OutboundRequest, origin: Origin): Promise<void>
}

export interface ProxyOptions {
  /** Send the client's Host to the upstream (default true) or the upstream's host:port. */
  preserveHost?: boolean
  /** `append` the peer to X-Forwarded-For (default) or `replace` it with the client address. */
  forwardedFor?: 'append' | 'replace'
  /** Last word on the upstream request's headers (e.g. a journey traceparent). */
  requestHeaders?: (ctx: EdgeContext, headers: Record<string, string | string[]>) => void
  /** Response cache consulted before the pool. */
  cache?: ProxyCache
  /** Close an upgraded (WebSocket) tunnel idle this long in both directions (ms; default 0 = never). */
  tunnelIdleTimeout?: number
  /**
   * The generation's response filters (compress: null when compression is off). Given, and without
   * `cache`, the action applies them itself once the upstream's head is known — compression only
   * when that head qualifies, internal headers dropped while copying it — so the engine installs
   * no writeHead hook for them. A cache writes heads of its own, so with one the engine's filters stay.
   */
  responseFilters?: SinkFilters
}

export interface ProxyAction extends EdgeAction {
  readonly kind: 'proxy'
  readonly pool: UpstreamPool
  upgrade(ctx: EdgeContext, socket: Duplex, head: Buffer): Promise<void>
}

/**
 * @example
 *   const pools = createUpstreamPools({ app: { targets: ['http://127.0.0.1:8000'] } })
 *   const action = createProxyAction(pools.get('app')!, { cache: createResponseCache({ maxSize: '64mb' }) })
 *   await action.handle(ctx)
 */
export function createProxyAction(pool: UpstreamPool, options: ProxyOptions = {}): ProxyAction {
  const headerOpts: ForwardHeaderOptions = {
    preserveHost: options.preserveHost ?? true,
    forwardedFor: options.forwardedFor ?? 'append',
  }
  const hook = options.requestHeaders

  function outbound(ctx: EdgeContext): OutboundRequest {
    const req = ctx.req
    const headers = upstreamRequestHeaders(ctx, '', headerOpts)
    if (hook) hook(ctx, headers)
    return {
      method: req.method ?? 'GET',
      path: ctx.path + ctx.search,
      headers,
      body: hasRequestBody(req) ? req : null,
      clientHost: headerOpts.preserveHost ? requestHost(req.headers) : undefined,
    }
  }

  const filters = options.cache ? undefined : options.responseFilters

  function clientSink(ctx: EdgeContext, extra?: HeadDecorator, own?: SinkFilters): ClientSink {
    const sticky = pool.settings.sticky.enabled
    if (!sticky) return new ClientSink(ctx, extra, own)
    const current = stickyTarget(pool, ctx)
    return new ClientSink(ctx, (headers: OutgoingHttpHeaders, u: Upstream | undefined, status: number) => {
      if (u) {
        const cookie = stickyCookie(pool, ctx, u, current)
        if (cookie) appendSetCookie(headers, cookie)
      }
      extra?.(headers, u, status)
    }, own)
  }

  function note(ctx: EdgeContext, job: ForwardJob, o: ForwardOutcome): void {
    ctx.notes.upstreamTries = job.tries
    if (o.upstream) ctx.notes.upstream = o.upstream.address
  }

  /** A forwarding job for this request, starting with its sticky upstream when it has one. */
  function newJob(ctx: EdgeContext, out: OutboundRequest, sink: ResponseSink): ForwardJob {
    const job = new ForwardJob(pool, out, ctx, sink)
    job.preferred = stickyTarget(pool, ctx)
    return job
  }

  function forward(ctx: EdgeContext, out: OutboundRequest, sink: ResponseSink) {
    const job = newJob(ctx, out, sink)
    const done = job.run().then((o) => {
      note(ctx, job, o)
      return o
    })
    return { job, done }
  }

  const origin: Origin = { forward, clientSink: (ctx, extra) => clientSink(ctx, extra), sendError }

  // Without a cache: callbacks instead of promises, one request's worth of objects and no more.
  function handle(ctx: EdgeContext): Promise<void> | void {
    const out = outbound(ctx)
    if (options.cache) return options.cache.handle(ctx, out, origin)
    const job = newJob(ctx, out, clientSink(ctx, undefined, filters))
    const res = ctx.res
    res.on('close', () => { if (!res.writableFinished) job.abort() })
    job.start((o) => {
      note(ctx, job, o)
      if (o.ok || o.reason === 'client closed') return
      try {
        sendError(ctx, o.status, o.reason)
      } catch {
        res.destroy()
      }
    })
  }

  return {
    kind: 'proxy',
    pool,
    compresses: filters !== undefined,
    stripsInternal: filters !== undefined,
    handle,
    upgrade: (ctx, socket, head) => proxyUpgrade(pool, headerOpts, ctx, socket, head, options.tunnelIdleTimeout ?? 0),
    async close() {
      // The pool belongs to createUpstreamPools, which closes it; the action holds nothing else.
    },
  }
}
