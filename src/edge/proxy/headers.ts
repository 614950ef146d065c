// Request and response header rewriting for the proxy: hop-by-hop headers never cross the proxy
// (RFC 9110 §7.6.1), and the upstream learns who the client was from X-Forwarded-* and X-Real-IP.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import type { EdgeContext } from '../context.ts'

/**
 * Always hop-by-hop; `Connection` may name more. `proxy-*` is matched by prefix. `expect` is not
 * hop-by-hop, but the edge's listener already answered `100-continue` itself.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings', 'expect'])

// Connection header values repeat (`keep-alive`, `close`): their token sets are remembered.
const tokenSets = new Map<string, Set<string>>()

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined
  const s = Array.isArray(value) ? value.join(',') : value
  let out = tokenSets.get(s)
  if (out !== undefined) return out
  out = new Set<string>()
  for (const t of s.split(',')) {
    const name = t.trim().toLowerCase()
    if (name) out.add(name)
  }
  if (tokenSets.size >= 256) tokenSets.clear()
  tokenSets.set(s, out)
  return out
}

function isHopByHop(name: string, named: Set<string> | undefined): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || name.charCodeAt(0) === 58 /* ':' h2 pseudo */ || (named?.has(name) ?? false)
}

export interface ForwardHeaderOptions {
  /** Send the client's Host (default) or the upstream's own host:port. */
  preserveHost: boolean
  /** `append` the peer to X-Forwarded-For (nginx/ALB), or `replace` it with the client address. */
  forwardedFor: 'append' | 'replace'
}

/** The client's Host: `Host` on HTTP/1.1, `:authority` on HTTP/2. */
export function requestHost(headers: IncomingHttpHeaders): string | undefined {
  return (headers.host ?? (headers[':authority'] as string | undefined)) || undefined
}

/**
 * Headers for the upstream request. `keepUpgrade` keeps `Upgrade`/`Connection: upgrade` for
 * WebSocket handshakes.
 */
export function upstreamRequestHeaders(ctx: EdgeContext, upstreamHost: string, opts: ForwardHeaderOptions, keepUpgrade = false): Record<string, string | string[]> {
  const inHeaders = ctx.req.headers
  const named = connectionTokens(inHeaders.connection)
  const out: Record<string, string | string[]> = {}
  for (const name in inHeaders) {
    const value = inHeaders[name]
    if (value === undefined || isHopByHop(name, named)) continue
    out[name] = value
  }
  const host = requestHost(inHeaders)
  out.host = opts.preserveHost && host ? host : upstreamHost
  const prior = inHeaders['x-forwarded-for']
  out['x-forwarded-for'] = opts.forwardedFor === 'append' && prior
    ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ctx.peerAddress}`
    : opts.forwardedFor === 'append' ? ctx.peerAddress : ctx.clientAddress
  out['x-forwarded-proto'] = ctx.scheme
  if (host) out['x-forwarded-host'] = host
  out['x-real-ip'] = ctx.clientAddress
  if (ctx.requestId) out['x-request-id'] = ctx.requestId
  // The journey stage records the traceparent it wants forwarded in notes; else pass the client's.
  const trace = ctx.notes.traceparent
  if (typeof trace === 'string' && trace) {
    out.traceparent = trace
    // A new trace (or one continued from a trusted proxy) carries only the state that came with it.
    const state = ctx.notes.tracestate
    if (typeof state === 'string') out.tracestate = state
    // Tested first: a delete is a runtime call even when there is nothing to delete (the usual case).
    else if (out.tracestate !== undefined) delete out.tracestate
  }
  if (keepUpgrade) {
    const upgrade = inHeaders.upgrade
    if (upgrade) {
      out.upgrade = upgrade
      out.connection = 'upgrade'
    }
  }
  return out
}

/** The upstream's response headers minus hop-by-hop ones (also what HTTP/2 forbids). */
export function downstreamResponseHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection)
  const out: OutgoingHttpHeaders = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || isHopByHop(name, named)) continue
    out[name] = value
  }
  return out
}

/**
 * Sets the upstream's response headers minus hop-by-hop ones on `res` (one pass, no copy). When
 * Node refuses one (an invalid value), the ones already set are removed again before the error
 * goes on, so the 502 page that follows carries none of them.
 */
export function copyResponseHeaders(headers: Record<string, string | string[] | undefined>, res: { setHeader(name: string, value: string | string[]): unknown; removeHeader(name: string): void }): void {
  const named = connectionTokens(headers.connection)
  try {
    for (const name in headers) {
      const value = headers[name]
      if (value === undefined || isHopByHop(name, named)) continue
      res.setHeader(name, value)
    }
  } catch (e) {
    for (const name in headers) if (!isHopByHop(name, named)) res.removeHeader(name)
    throw e
  }
}
