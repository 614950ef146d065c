// The contract between the edge's stages: one EdgeContext per request, passed through the
// stages in order (accept → identify client → firewall → match route → act → filters → log).
// `req`/`res` are node:http objects or HTTP/2 compatibility objects; both expose the same API.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { Duplex } from 'node:stream'
import type { EdgeTrace } from './journey/trace.ts'

export type EdgeRequest = IncomingMessage | Http2ServerRequest
export type EdgeResponse = ServerResponse | Http2ServerResponse

export interface EdgeContext {
  req: EdgeRequest
  res: EdgeResponse
  /** The client address after trusted-proxy processing (never a spoofable header). */
  clientAddress: string
  /** The direct peer's address (the socket's remote address). */
  peerAddress: string
  scheme: 'http' | 'https'
  /** Host without port, lowercased. */
  host: string
  /** Path without query string, as received (not decoded). */
  path: string
  /** Query string including '?', or ''. */
  search: string
  /** X-Request-Id passed on to upstreams and logged. */
  requestId: string
  startedAt: bigint
  /** Set by the route matcher: which rule matched. */
  route?: { name: string; index: number }
  /** Free for stages to record facts the log and the journey report (upstream, cache status, …). */
  notes: Record<string, string | number | boolean>
  /** The request's journey spans, present only when the request is sampled (src/edge/journey). */
  trace?: EdgeTrace
}

/** One action a route can run (static, proxy, redirect, respond). It must finish the response. */
export interface EdgeAction {
  readonly kind: string
  /**
   * The action applies the on-the-fly compression filter itself, where it can help (the static
   * action: only for files streamed from disk; files in memory have cached compressed copies).
   * Otherwise the engine installs it before `handle`.
   */
  readonly compresses?: boolean
  /**
   * The action removes edge-only headers (src/edge/filters/strip-internal.ts) from upstream
   * responses itself, as it copies their heads (the proxy); otherwise the engine hooks writeHead
   * for it on routes whose responses may carry upstream headers.
   */
  readonly stripsInternal?: boolean
  handle(ctx: EdgeContext): Promise<void> | void
  /**
   * HTTP/1.1 Upgrade (WebSocket): the listener's 'upgrade' event hands over the raw socket and the
   * bytes already read past the headers. `ctx.res` is not usable here (there is no response
   * object); the action answers errors on the socket itself. Actions without it refuse upgrades.
   */
  upgrade?(ctx: EdgeContext, socket: Duplex, head: Buffer): Promise<void> | void
  close?(): Promise<void>
}
