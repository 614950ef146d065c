// Helpers for node:http servers and clients, so every layer records requests the same way
// (OpenTelemetry's HTTP semantic conventions) and passes the trace on the same way.
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http'
import { activeSpan, currentTraceparent, currentTracestate, journeyEnabled, startTrace } from './tracer.ts'
import type { Attributes } from './span.ts'

export interface HttpTraceOptions {
  /** Root span name. Default `${method} ${path}`. */
  name?: string
  /** Continue the caller's trace from its headers? Default true. The edge passes false for
   *  clients that are not trusted proxies, so outsiders cannot pick trace ids or force sampling. */
  trustIncoming?: boolean
  /** Extra root attributes. */
  attributes?: Attributes
  /** The client address, when the caller resolved it through trusted proxies. Default: the peer. */
  clientAddress?: string
  /** Answer with W3C Trace Context Level 2's `traceresponse` header (trace id, our span id,
   *  sampled flag), so a client or a test can find its request in the dashboard. Default false. */
  traceResponse?: boolean
}

type AnyRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers' | 'httpVersion'> & { socket?: { remoteAddress?: string } | null }
type AnyResponse = Pick<ServerResponse, 'statusCode' | 'once' | 'writableFinished'> & { closed?: boolean; headersSent?: boolean; setHeader?: ServerResponse['setHeader'] }

/**
 * Runs a node:http handler as one request's trace. The root span (kind server) carries
 * `http.request.method`, `url.path`, `client.address`, `user_agent.original`,
 * `network.protocol.version`, and `http.response.status_code` once the response closes; it ends
 * when both the handler has settled and the response has closed, so streamed bodies are counted.
 * A 5xx, or a response the client abandoned, marks the root as an error. A handler that throws
 * rejects at once (the root records it), so the caller can still answer 500.
 *
 * @example
 * http.createServer((req, res) => traceHttpRequest(req, res, () => app.handle(req, res)).catch(onError))
 */
export function traceHttpRequest(req: AnyRequest, res: AnyResponse, handler: () => unknown, options?: HttpTraceOptions): Promise<void> {
  if (!journeyEnabled()) return settle(handler).then(noop)
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const method = req.method ?? 'GET'
  const ua = req.headers['user-agent']
  const attrs: Attributes = {
    'http.request.method': method,
    'url.path': path,
    'client.address': options?.clientAddress ?? req.socket?.remoteAddress,
    'user_agent.original': typeof ua === 'string' ? ua : undefined,
    'network.protocol.version': req.httpVersion,
    ...options?.attributes,
  }
  const incoming = options?.trustIncoming === false ? undefined : req.headers
  return startTrace(incoming, attrs, () => {
    if (options?.traceResponse && res.setHeader && !res.headersSent) {
      const tp = currentTraceparent()
      if (tp) res.setHeader('traceresponse', tp)
    }
    const root = activeSpan()
    // Not recorded: the handler's promise as it is, without a reaction of ours on it (whatever it
    // resolves to is the handler's; callers of this Promise<void> do not read it).
    if (root === undefined) return settle(handler) as Promise<void>
    const closed = new Promise<void>((resolve) => {
      const done = () => {
        const status = res.statusCode
        // After a thrown handler the root has already ended with the error: leave it as it was.
        root.setAttributes({ 'http.response.status_code': status })
        if (status >= 500) root.setStatus('error', `HTTP ${status}`)
        else if (!res.writableFinished) root.setStatus('error', 'response not completed (client went away)')
        resolve()
      }
      if (res.closed) done()
      else res.once('close', done)
    })
    return settle(handler).then(() => closed)
  }, { name: options?.name ?? `${method} ${path}` })
}

function noop(): void {}

/** The handler's result as a promise; a synchronous throw becomes a rejection. */
function settle(handler: () => unknown): Promise<unknown> {
  try {
    return Promise.resolve(handler())
  } catch (e) {
    return Promise.reject(e)
  }
}

/**
 * Sets `traceparent` (and `tracestate`, or removes a stale one) for the next hop on outgoing
 * headers, with the current span as the parent. Outside a trace (journey off) the headers are
 * left as they are, so a proxy stays transparent. Returns the same object.
 *
 * @example await span('proxy', attrs, () => forward(injectTraceHeaders({ ...headers })), { kind: 'client' })
 */
export function injectTraceHeaders<H extends OutgoingHttpHeaders | Record<string, string | string[] | undefined>>(headers: H): H {
  const tp = currentTraceparent()
  if (tp === undefined) return headers
  const h = headers as Record<string, unknown>
  h.traceparent = tp
  const ts = currentTracestate()
  if (ts !== undefined) h.tracestate = ts
  else delete h.tracestate
  return headers
}
