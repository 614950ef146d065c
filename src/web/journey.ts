// The framework's journey spans: one per layer, nested, so the waterfall draws the onion
// (request span → middleware → url.resolve, view → db queries, template). Everything here runs
// only for a recorded request (`req.journeySpan` set): the untraced path tests one field and
// calls the layer directly, without a closure or a span.
import { activeSpan, currentTraceId, span, startTrace, type Attributes, type RecordingSpan, type TraceInput } from '../journey/index.ts'
import type { HttpRequest } from './request.ts'
import type { HttpResponse } from './response.ts'
import type { Handler, ResolverMatch } from './types.ts'

/** Per-layer tracing config, built once with the onion. `marks`: the layer is someone's `next`. */
export interface LayerTrace {
  name: string
  middleware: string
  marks: boolean
}

/** The traceparent/tracestate of a request, read from rawHeaders (node builds `headers` lazily). */
function incoming(raw: HttpRequest['raw']): TraceInput {
  const h = raw.rawHeaders
  let tp: string | undefined
  let ts: string | undefined
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!
    // Repeated traceparent headers are joined as node's req.headers does, which makes them
    // invalid: the journey then starts a new trace and notes the rejected header.
    if (n.length === 11 && n.toLowerCase() === 'traceparent') tp = tp === undefined ? h[i + 1] : `${tp}, ${h[i + 1]}`
    else if (n.length === 10 && n.toLowerCase() === 'tracestate') ts = ts === undefined ? h[i + 1] : `${ts},${h[i + 1]}`
  }
  return ts === undefined ? tp : { traceparent: tp, tracestate: ts }
}

/** Binds the request to its span (or to null: decided, not recorded), then runs it. */
function begin<T>(req: HttpRequest, fn: (req: HttpRequest) => Promise<T>): Promise<T> {
  const s = activeSpan()
  req.journeySpan = s ?? null
  if (s !== undefined) {
    s.setAttributes({
      'http.request.method': req.method,
      'url.path': req.rawPath,
      'causeway.request_id': req.id,
    })
    if (req.queryString) s.setAttributes({ 'url.query.present': true })
  }
  return fn(req)
}

/**
 * Runs one request as a journey span: nested under the current span when the caller (the app
 * server's worker) already records this request; unrecorded when the caller's trace is not
 * sampled; else a trace continued from the request's `traceparent` (or a new one). Call only when
 * the journey is enabled.
 */
export function traceRequest<T>(req: HttpRequest, fn: (req: HttpRequest) => Promise<T>): Promise<T> {
  if (activeSpan() !== undefined) return span(req.method, undefined, () => begin(req, fn))
  if (currentTraceId() !== undefined) {
    req.journeySpan = null
    return fn(req)
  }
  return startTrace(incoming(req.raw), undefined, () => begin(req, fn), { name: req.method, kind: 'server' })
}

/** The response status on the request span (OTel: a 5xx is an error of the server span). */
export function recordStatus(req: HttpRequest, status: number): void {
  const s = req.journeySpan
  if (!s) return
  s.setAttributes({ 'http.response.status_code': status })
  if (status >= 500) s.setStatus('error', `HTTP ${status}`)
}

/** Once the URL matched: the request span takes the route's name (`GET /products/<slug:slug>/`). */
export function recordRoute(req: HttpRequest, r: ResolverMatch): void {
  const s = req.journeySpan
  if (!s) return
  const route = routeOf(r)
  s.name = `${req.method} ${route}`
  s.setAttributes({ 'http.route': route })
}

/** The matched route as OTel's `http.route` wants it (with its leading slash). */
export function routeOf(r: ResolverMatch): string {
  return r.route.startsWith('/') ? r.route : '/' + r.route
}

/** The name a view's span carries: its function (or class) name, else its URL name. */
export function viewName(r: ResolverMatch): string {
  return r.view.name || r.name || r.route
}

/** Runs the URL resolution inside a `url.resolve` span (recorded requests only). */
export function traceResolve<R extends { kind: string }>(req: HttpRequest, resolve: (req: HttpRequest) => R): R {
  return span('url.resolve', { 'url.path': req.path }, () => {
    const r = resolve(req)
    const s = activeSpan()
    if (s !== undefined) {
      const a: Attributes = { 'causeway.resolve.result': r.kind }
      if (r.kind === 'match') {
        const m = r as unknown as ResolverMatch
        a['http.route'] = routeOf(m)
        a['causeway.view'] = viewName(m)
        if (m.name) a['causeway.url_name'] = m.namespace ? `${m.namespace}:${m.name}` : m.name
      }
      s.setAttributes(a)
    }
    return r
  })
}

// What each middleware span saw of its own work, kept until the span ends (recorded requests only).
interface LayerSnapshot {
  state: string[]
  headers: HttpResponse['headers'] | undefined
  calledNext: boolean
}
// A Map, not a WeakMap (cheaper for the garbage collector): layerBody deletes its entry when the
// layer settles, either way.
const snapshots = new Map<RecordingSpan, LayerSnapshot>()

function stateKeys(req: HttpRequest): string[] {
  return Object.keys(req.state)
}

/** A middleware calls next(): its request phase ends. Notes what it put on `req.state`. */
function enterNext(req: HttpRequest): RecordingSpan | undefined {
  const caller = activeSpan()
  if (caller === undefined) return undefined
  caller.addEvent('request-phase-end')
  const snap = snapshots.get(caller)
  if (snap !== undefined) {
    snap.calledNext = true
    const added = stateKeys(req).filter((k) => !snap.state.includes(k))
    if (added.length > 0) caller.setAttributes({ 'causeway.middleware.state_set': added })
  }
  return caller
}

/** next() returned: the caller's response phase starts. Keeps the headers to diff at its end. */
function leaveNext(caller: RecordingSpan, res: HttpResponse | undefined): void {
  caller.addEvent('response-phase-start')
  const snap = snapshots.get(caller)
  if (snap !== undefined && res !== undefined && res.headers) snap.headers = { ...res.headers }
}

function sameValue(a: string | string[] | undefined, b: string | string[] | undefined): boolean {
  if (a === b) return true
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i])
}

/** The middleware's response phase is over: which headers did it set, change or remove? */
function recordResponsePhase(own: RecordingSpan, snap: LayerSnapshot, res: HttpResponse): void {
  if (!snap.calledNext) {
    own.setAttributes({ 'causeway.middleware.short_circuit': true })
    return
  }
  const before = snap.headers
  if (before === undefined || !res || !res.headers) return
  const set: string[] = []
  const removed: string[] = []
  for (const k in res.headers) if (!sameValue(before[k], res.headers[k])) set.push(k)
  for (const k in before) if (!(k in res.headers)) removed.push(k)
  if (set.length > 0) own.setAttributes({ 'causeway.middleware.headers_set': set })
  if (removed.length > 0) own.setAttributes({ 'causeway.middleware.headers_removed': removed })
}

function layerBody(req: HttpRequest, inner: Handler): Promise<HttpResponse> {
  const own = activeSpan()
  if (own === undefined) return inner(req)
  const snap: LayerSnapshot = { state: stateKeys(req), headers: undefined, calledNext: false }
  snapshots.set(own, snap)
  // Promise.resolve: a handler written without `async` may return the response itself.
  let out: Promise<HttpResponse>
  try {
    out = Promise.resolve(inner(req))
  } catch (e) {
    snapshots.delete(own)
    throw e
  }
  return out.then((res) => {
    snapshots.delete(own)
    recordResponsePhase(own, snap, res)
    return res
  }, (e: unknown) => {
    snapshots.delete(own)
    throw e
  })
}

/**
 * One middleware layer of a recorded request: a `middleware <name>` span covering both phases,
 * with the events `request-phase-end` / `response-phase-start` where it called next() and where
 * next() returned.
 */
// Not async (nor traceBase): a then on the span's promise instead of an async frame, its await
// and its own promise, per layer of every recorded request.
export function traceLayer(req: HttpRequest, inner: Handler, t: LayerTrace): Promise<HttpResponse> {
  const caller = t.marks ? enterNext(req) : undefined
  let out: Promise<HttpResponse>
  try {
    // Promise.resolve returns the span's promise as it is (and wraps a bare response, should a
    // handler give one).
    out = Promise.resolve(span(t.name, { 'causeway.middleware': t.middleware }, () => layerBody(req, inner)))
  } catch (e) {
    if (caller !== undefined) leaveNext(caller, undefined)
    return Promise.reject(e)
  }
  return caller === undefined ? out : afterNext(caller, out)
}

/** The base handler (URL dispatch) called as the innermost middleware's next(). */
export function traceBase(req: HttpRequest, base: Handler): Promise<HttpResponse> {
  const caller = enterNext(req)
  let out: Promise<HttpResponse>
  try {
    // Promise.resolve: a base that is not async may return the response itself.
    out = Promise.resolve(base(req))
  } catch (e) {
    if (caller !== undefined) leaveNext(caller, undefined)
    return Promise.reject(e)
  }
  return caller === undefined ? out : afterNext(caller, out)
}

/** next() settled: the caller's response phase starts (also when next() failed). */
function afterNext(caller: RecordingSpan, out: Promise<HttpResponse>): Promise<HttpResponse> {
  return out.then((res) => {
    leaveNext(caller, res)
    return res
  }, (e: unknown) => {
    leaveNext(caller, undefined)
    throw e
  })
}

/** Runs the view in its `view <name>` span. */
export function traceView<T>(r: ResolverMatch, fn: () => T): T {
  const name = viewName(r)
  return span(`view ${name}`, { 'causeway.view': name, 'http.route': routeOf(r) }, fn)
}

/** A middleware's view or exception hook, in its own span. */
export function traceHook<T>(kind: 'view' | 'exception', middleware: string, fn: () => T): T {
  return span(`${kind} hook ${middleware}`, { 'causeway.middleware': middleware }, fn)
}
