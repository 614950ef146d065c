// The onion, built once at startup (Django's BaseHandler.load_middleware): each middleware wraps
// the handler below it; every layer boundary turns a thrown error (or a missing response) into a
// response, so nothing leaks past a layer and a short-circuit still passes back out through the
// layers above.
import { ConfigError } from '../errors.ts'
import type { HttpRequest } from './request.ts'
import type { HttpResponse } from './response.ts'
import type { Handler, Middleware, View } from './types.ts'
import type { WebSettings } from './settings.ts'
import { traceBase, traceLayer, type LayerTrace } from './journey.ts'

export type ErrorHandler = (req: HttpRequest, error: unknown) => Promise<HttpResponse>
export type ViewHook = (req: HttpRequest, view: View<any>, params: Record<string, unknown>) => HttpResponse | void | Promise<HttpResponse | void>
export type ExceptionHook = (req: HttpRequest, error: unknown) => HttpResponse | void | Promise<HttpResponse | void>

export function isResponse(r: unknown): r is HttpResponse {
  return typeof r === 'object' && r !== null && typeof (r as HttpResponse).status === 'number' && typeof (r as HttpResponse).headers === 'object'
}

function describe(v: unknown): string {
  return v === undefined ? 'undefined' : v === null ? 'null' : typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? 'Object'})` : typeof v
}

/** The error a layer boundary raises when a handler gave something other than a response. */
export function notAResponse(layer: string, res: unknown): TypeError {
  return new TypeError(`${layer} returned ${describe(res)} instead of an HttpResponse. Did you forget to \`return await next(req)\`?`)
}

/**
 * Wraps a handler so that whatever happens inside, a response comes out. With `trace`, a recorded
 * request runs the layer inside its journey span (an unrecorded one only tests one field).
 *
 * Not an async function: one `then` on the inner promise is the whole cost of a boundary (an
 * async wrapper costs a promise, an await and a resumable frame more, per layer, per request).
 */
export function guard(inner: Handler, layer: string, onError: ErrorHandler, trace?: LayerTrace): Handler {
  const boundary = new Boundary<undefined, HttpResponse | Promise<HttpResponse>>(layer, (_req, _x, res) => res, (req, _x, e) => onError(req, e))
  return (req) => {
    let out: Promise<HttpResponse> | HttpResponse
    try {
      out = trace !== undefined && req.journeySpan ? traceLayer(req, inner, trace) : inner(req)
    } catch (e) {
      return onError(req, e)
    }
    // A handler written without `async` may return the response (or another thenable) itself.
    if (!isPlainPromise(out)) {
      if (isResponse(out)) return Promise.resolve(out)
      if (!isThenable(out)) return onError(req, notAResponse(layer, out))
      out = Promise.resolve(out)
    }
    return boundary.settle(out, req, undefined) as Promise<HttpResponse>
  }
}

/**
 * A promise whose `then` is Promise.prototype.then itself (an async function's, for one). Only
 * such a promise gets a boundary's reused handlers: a subclass's own `then` that called them
 * twice would hand one pair to two requests at once (anything else is wrapped first).
 */
export function isPlainPromise(v: unknown): v is Promise<unknown> {
  return v instanceof Promise && Object.getPrototypeOf(v) === Promise.prototype
}

// How many settled handler pairs a boundary keeps: enough for the requests one worker has in
// flight at once; past a burst, the rest go to the garbage collector.
const IDLE_KEPT = 1024

/**
 * One layer boundary's promise handlers, reused: `answer` gets the response, `fail` a rejection
 * or (as notAResponse) anything else. The handlers for a request need the request (and `X`, what
 * else the boundary's user needs: the app's node:http path, the ServerResponse); as closures they
 * would be two functions and a context per layer per request (~150 bytes, a tenth of what a
 * request through five middleware allocated, and allocation, not instructions, is what the
 * framework costs over raw node:http: issue 2). Instead a pair made once holds the request in a
 * field while it waits, and returns to the boundary when it has run.
 */
export class Boundary<X, R> {
  readonly #idle: Waiting<X, R>[] = []
  constructor(
    readonly layer: string,
    readonly answer: (req: HttpRequest, x: X, res: HttpResponse) => R,
    readonly fail: (req: HttpRequest, x: X, error: unknown) => R,
  ) {}

  /** `out.then(answer, fail)` for `req` and `x`; `out` must be a plain promise (isPlainPromise). */
  settle(out: Promise<unknown>, req: HttpRequest, x: X): Promise<Awaited<R>> {
    const w = this.#idle.pop() ?? new Waiting(this)
    w.req = req
    w.x = x
    return out.then(w.fulfilled, w.rejected) as Promise<Awaited<R>>
  }

  /** `w` is free again (a promise runs one of its handlers, once). */
  release(w: Waiting<X, R>): void {
    w.req = undefined
    w.x = undefined
    if (this.#idle.length < IDLE_KEPT) this.#idle.push(w)
  }
}

/** A pair of `then` handlers and the request they are waiting for (see Boundary). */
class Waiting<X, R> {
  req: HttpRequest | undefined = undefined
  x: X | undefined = undefined
  readonly fulfilled: (res: unknown) => R
  readonly rejected: (e: unknown) => R
  constructor(boundary: Boundary<X, R>) {
    this.fulfilled = (res) => {
      const req = this.req!
      const x = this.x as X
      boundary.release(this)
      return isResponse(res) ? boundary.answer(req, x, res) : boundary.fail(req, x, notAResponse(boundary.layer, res))
    }
    this.rejected = (e) => {
      const req = this.req!
      const x = this.x as X
      boundary.release(this)
      return boundary.fail(req, x, e)
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<HttpResponse> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function'
}

export interface Onion {
  handler: Handler
  /** The middleware that are in use (wrap did not return null), top to bottom. */
  used: Middleware[]
  /** process_view hooks, top-down. */
  viewHooks: ViewHook[]
  /** process_exception hooks, bottom-up. */
  exceptionHooks: ExceptionHook[]
  /** The middleware name of each hook (journey span names), parallel to the hook lists. */
  viewHookNames: string[]
  exceptionHookNames: string[]
  /**
   * The outermost middleware's own handler (not guarded) and its layer name, for the app's
   * node:http path, which does that boundary's work itself (one promise less per request).
   * Undefined without middleware.
   */
  outermost?: { handler: Handler; layer: string }
}

/**
 * Builds the chain around `base` (the URL dispatch + view). `middleware[0]` is the outermost.
 * The base receives the hooks through `bindHooks` before any request runs.
 */
export function buildOnion(middleware: readonly Middleware[], base: Handler, settings: WebSettings, onError: ErrorHandler): Onion {
  // The base already converts its own errors (see dispatch.ts). For a recorded request it is also
  // the innermost middleware's next(), whose phase boundaries are marked on that middleware's span.
  const baseTrace = { marks: false }
  let handler: Handler = (req) => (req.journeySpan && baseTrace.marks ? traceBase(req, base) : base(req))
  const used: Middleware[] = []
  const traces: LayerTrace[] = []
  let outermost: Onion['outermost']
  middleware.forEach((mw, i) => {
    if (!mw || typeof mw.wrap !== 'function' || typeof mw.name !== 'string') {
      throw new ConfigError(`app.middleware[${i}]`, 'a middleware is an object { name, wrap(next, settings) } (did you pass the module instead of its export?)')
    }
  })
  for (let i = middleware.length - 1; i >= 0; i--) {
    const mw = middleware[i]!
    const h = mw.wrap(handler, settings)
    if (h === null) continue // Django's MiddlewareNotUsed
    if (typeof h !== 'function') {
      throw new ConfigError(`app.middleware[${i}] (${mw.name})`, `wrap() returned ${describe(h)}; it must return a handler (req) => Promise<HttpResponse>, or null when not used`)
    }
    const trace: LayerTrace = { name: `middleware ${mw.name}`, middleware: mw.name, marks: true }
    outermost = { handler: h, layer: `Middleware '${mw.name}'` }
    handler = guard(h, outermost.layer, onError, trace)
    used.unshift(mw)
    traces.unshift(trace)
  }
  // The outermost layer is called by the app, not by a middleware: no phase marks there.
  if (traces.length > 0) traces[0]!.marks = false
  baseTrace.marks = traces.length > 0
  const viewHooks: ViewHook[] = []
  const exceptionHooks: ExceptionHook[] = []
  const viewHookNames: string[] = []
  const exceptionHookNames: string[] = []
  for (const mw of used) if (mw.view) { viewHooks.push(mw.view.bind(mw)); viewHookNames.push(mw.name) }
  for (let i = used.length - 1; i >= 0; i--) if (used[i]!.exception) { exceptionHooks.push(used[i]!.exception!.bind(used[i]!)); exceptionHookNames.push(used[i]!.name) }
  return { handler, used, viewHooks, exceptionHooks, viewHookNames, exceptionHookNames, outermost }
}
