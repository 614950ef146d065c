// The onion, built once at startup (Django's BaseHandler.load_middleware): each middleware wraps
// the handler below it; every layer boundary turns a thrown error (or a missing response) into a
// response, so nothing leaks past a layer and a short-circuit still passes back out through the
// layers above. Neighbouring phased middleware (Middleware.phases) run as one PhasedRun: the same
// boundaries, in one promise reaction for all their response phases.
import { ConfigError } from '../errors.ts'
import type { HttpRequest } from './request.ts'
import type { HttpResponse } from './response.ts'
import type { Handler, Middleware, MiddlewarePhases, View } from './types.ts'
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
 * request runs the layer inside its journey span (an unrecorded one only tests one field). With
 * `below`, a layer that hands back the very promise its next() gave it (one with no response
 * phase) needs no boundary of its own: that promise is the layers below's, already a response.
 *
 * Not an async function: one `then` on the inner promise is the whole cost of a boundary (an
 * async wrapper costs a promise, an await and a resumable frame more, per layer, per request).
 */
export function guard(inner: Handler, layer: string, onError: ErrorHandler, trace?: LayerTrace, below?: PassThrough): Handler {
  const boundary = new Boundary<undefined, HttpResponse | Promise<HttpResponse>>(layer, (_req, _x, res) => res, (req, _x, e) => onError(req, e))
  return (req) => {
    let out: Promise<HttpResponse> | HttpResponse
    try {
      out = trace !== undefined && req.journeySpan ? traceLayer(req, inner, trace) : inner(req)
    } catch (e) {
      return onError(req, e)
    }
    if (below !== undefined && below.handedBack(out)) return out as Promise<HttpResponse>
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
 * The `next` a wrapped layer gets, remembering the promise it gave last: only the layers below
 * make such a promise, and they always fulfill it with a response (their boundaries see to it).
 */
export class PassThrough {
  #last: unknown = undefined
  constructor(readonly below: Handler) {}
  readonly next: Handler = (req) => (this.#last = this.below(req)) as Promise<HttpResponse>

  /** Whether `out` is the promise next() gave last (then forgotten, not kept until the next request). */
  handedBack(out: unknown): boolean {
    if (out === undefined || out !== this.#last) return false
    this.#last = undefined
    return true
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
    /** The error for a value that is not a response (default: notAResponse naming `layer`). */
    readonly miss: (req: HttpRequest, value: unknown) => unknown = (_req, v) => notAResponse(layer, v),
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
      return isResponse(res) ? boundary.answer(req, x, res) : boundary.fail(req, x, boundary.miss(req, res))
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

/** What a layer gave, as a plain promise (see isPlainPromise) for a boundary. */
function plain(out: unknown): Promise<unknown> {
  return isPlainPromise(out) ? out : Promise.resolve(out)
}

/**
 * A handler that hands its response to `answer(req, x, res)` from its own last reaction instead
 * of resolving a promise for another reaction to wait on: the layer below a phased run, and the
 * app's writer, join the reaction that already ends the layer (one promise less each). For
 * unrecorded requests only (no journey spans). Never throws; a failure reaches `answer` as an
 * error response.
 */
export type Ending = <X, R>(answer: (req: HttpRequest, x: X, res: HttpResponse) => R | Promise<R>) => (req: HttpRequest, x: X) => Promise<R>

/** A layer of the onion as built: its handler (whose promise always fulfills with a response) and the same ending in an answer. */
interface Built {
  handler: Handler
  endingIn: Ending
}

/** One phased middleware in use: its phases, its boundary's name, its journey span. */
interface PhasedLayer {
  phases: MiddlewarePhases
  layer: string
  trace: LayerTrace
}

function requestGave(layer: string, v: unknown): TypeError {
  return new TypeError(`${layer}: its request phase returned ${describe(v)}; it returns nothing to go on, or an HttpResponse to answer with`)
}

function responseGave(layer: string, v: unknown): TypeError {
  return new TypeError(`${layer}: its response phase returned ${describe(v)} instead of an HttpResponse. Did you forget to return the response?`)
}

/**
 * Neighbouring phased layers (outermost first) around the layers below: the request phases
 * top-down, the layers below, then every response phase bottom-up in the one reaction that ends
 * the layers below, where a wrapped layer costs its own `then` and its boundary's. Each layer is
 * still a boundary: a phase that throws, rejects or gives something other than a response
 * becomes an error response there, and only the layers above see it. `finish(req, x, res)` takes
 * the outermost layer's response: as it is (a handler), or onward (Ending), in that same reaction.
 */
class PhasedRun<X, R> {
  readonly #below: (req: HttpRequest, x: X) => Promise<R>
  constructor(
    readonly layers: readonly PhasedLayer[],
    below: Built,
    readonly onError: ErrorHandler,
    readonly finish: (req: HttpRequest, x: X, res: HttpResponse) => R | Promise<R>,
  ) {
    const last = layers.length - 1
    this.#below = below.endingIn<X, R>((req, x, res) => this.#respond(req, x, res, last))
  }

  run(req: HttpRequest, x: X): Promise<R> {
    return this.#request(req, x, 0)
  }

  /** The request phases from layer `from` down, then the layers below. */
  #request(req: HttpRequest, x: X, from: number): Promise<R> {
    const layers = this.layers
    for (let k = from; k < layers.length; k++) {
      const p = layers[k]!.phases
      if (p.request === undefined) continue
      let out: unknown
      try {
        out = p.request(req)
      } catch (e) {
        return this.#convert(req, x, e, k - 1)
      }
      if (out === undefined || out === null) continue
      // A short-circuit: the layers above this one see the response (this one's response phase does not).
      if (isResponse(out)) return Promise.resolve(this.#respond(req, x, out, k - 1))
      if (isThenable(out)) return this.#afterRequest(req, x, out, k)
      return this.#convert(req, x, requestGave(layers[k]!.layer, out), k - 1)
    }
    return this.#below(req, x)
  }

  /** A request phase that answers later (an async one). */
  #afterRequest(req: HttpRequest, x: X, pending: PromiseLike<unknown>, k: number): Promise<R> {
    return Promise.resolve(pending).then((out) => {
      if (out === undefined || out === null) return this.#request(req, x, k + 1)
      if (isResponse(out)) return this.#respond(req, x, out, k - 1)
      return this.#convert(req, x, requestGave(this.layers[k]!.layer, out), k - 1)
    }, (e: unknown) => this.#convert(req, x, e, k - 1))
  }

  /** The response phases from layer `from` up, then `finish`. */
  #respond(req: HttpRequest, x: X, res: HttpResponse, from: number): R | Promise<R> {
    const layers = this.layers
    for (let k = from; k >= 0; k--) {
      const p = layers[k]!.phases
      if (p.response === undefined) continue
      let out: unknown
      try {
        out = p.response(req, res)
      } catch (e) {
        return this.#convert(req, x, e, k - 1)
      }
      if (isResponse(out)) {
        res = out
        continue
      }
      if (isThenable(out)) return this.#afterResponse(req, x, out, k)
      return this.#convert(req, x, responseGave(layers[k]!.layer, out), k - 1)
    }
    return this.finish(req, x, res)
  }

  /** A response phase that answers later (a session save, a large body's compression). */
  #afterResponse(req: HttpRequest, x: X, pending: PromiseLike<unknown>, k: number): Promise<R> {
    return Promise.resolve(pending).then(
      (out) => (isResponse(out) ? this.#respond(req, x, out, k - 1) : this.#convert(req, x, responseGave(this.layers[k]!.layer, out), k - 1)),
      (e: unknown) => this.#convert(req, x, e, k - 1),
    )
  }

  /** Layer `from + 1` failed with `e`: its boundary's error response goes on up from layer `from`. */
  #convert(req: HttpRequest, x: X, e: unknown, from: number): Promise<R> {
    return this.onError(req, e).then((res) => this.#respond(req, x, res, from))
  }
}

const asItIs = (_req: HttpRequest, _x: unknown, res: HttpResponse): HttpResponse => res

/**
 * A run of phased layers (outermost first) as one layer of the onion. An unrecorded request
 * takes the fused run; a recorded one goes through each layer on its own, inside its journey
 * span (as a wrapped layer would), so the waterfall still shows every middleware and its phases.
 */
function phasedLayer(layers: readonly PhasedLayer[], below: Built, onError: ErrorHandler): Built {
  const fused = new PhasedRun<undefined, HttpResponse>(layers, below, onError, asItIs)
  let chain = below.handler
  for (let k = layers.length - 1; k >= 0; k--) {
    const one = new PhasedRun<undefined, HttpResponse>([layers[k]!], { handler: chain, endingIn: thenOf(chain, onError) }, onError, asItIs)
    const run: Handler = (req) => one.run(req, undefined)
    const trace = layers[k]!.trace
    // For recorded requests only. No guard: a run is its own boundary (its promise is always a
    // response, and so is the span's promise around it).
    chain = (req) => traceLayer(req, run, trace)
  }
  return {
    handler: (req) => (req.journeySpan ? chain(req) : fused.run(req, undefined)),
    endingIn: (answer) => {
      const run = new PhasedRun(layers, below, onError, answer)
      return (req, x) => run.run(req, x)
    },
  }
}

/** The Ending of a handler, by a `then` on its promise (the journey's per-layer path). */
function thenOf(handler: Handler, onError: ErrorHandler): Ending {
  return (answer) => {
    const boundary = new Boundary('The layers below', answer, (req, x, e) => onError(req, e).then((res) => answer(req, x, res)))
    return (req, x) => boundary.settle(plain(handler(req)), req, x)
  }
}

/** A wrapped layer: `h`, the handler its wrap() returned, with `below` as its next(). */
function wrappedLayer(h: Handler, below: PassThrough, layer: string, trace: LayerTrace, onError: ErrorHandler): Built {
  return {
    handler: guard(h, layer, onError, trace, below),
    // Its boundary, with `answer` as the boundary's handlers.
    endingIn: (answer) => {
      const boundary = new Boundary(layer, answer, (req, x, e) => onError(req, e).then((res) => answer(req, x, res)))
      return (req, x) => {
        let out: unknown
        try {
          out = h(req)
        } catch (e) {
          out = onError(req, e)
        }
        // The boundary is taken either way; this only lets go of the promise.
        below.handedBack(out)
        return boundary.settle(plain(out), req, x)
      }
    },
  }
}

export interface Onion {
  handler: Handler
  /** The middleware that are in use (wrap or phases did not return null), top to bottom. */
  used: Middleware[]
  /** process_view hooks, top-down. */
  viewHooks: ViewHook[]
  /** process_exception hooks, bottom-up. */
  exceptionHooks: ExceptionHook[]
  /** The middleware name of each hook (journey span names), parallel to the hook lists. */
  viewHookNames: string[]
  exceptionHookNames: string[]
  /**
   * For the app's node:http path: the onion for an unrecorded request, handing the outermost
   * layer's response to `answer` in that layer's own last reaction (see Ending).
   */
  endingIn: Ending
}

/**
 * Builds the chain around `base` (the URL dispatch + view, with its Ending). `middleware[0]` is
 * the outermost. The base receives the hooks through `bindHooks` before any request runs.
 * `wrap` and `phases` are called once each, innermost first (as Django loads middleware).
 */
export function buildOnion(middleware: readonly Middleware[], base: Handler & { endingIn: Ending }, settings: WebSettings, onError: ErrorHandler): Onion {
  // The base already converts its own errors (see dispatch.ts). For a recorded request it is also
  // the innermost middleware's next(), whose phase boundaries are marked on that middleware's span.
  const baseTrace = { marks: false }
  let built: Built = { handler: (req) => (req.journeySpan && baseTrace.marks ? traceBase(req, base) : base(req)), endingIn: base.endingIn }
  const used: Middleware[] = []
  const traces: LayerTrace[] = []
  // Phased layers not yet in the chain, outermost first: one run, once a wrapped layer (or the top) is reached.
  let pending: PhasedLayer[] = []
  middleware.forEach((mw, i) => {
    if (!mw || typeof mw.name !== 'string' || (typeof mw.wrap === 'function') === (typeof mw.phases === 'function')) {
      throw new ConfigError(`app.middleware[${i}]`, 'a middleware is an object { name, wrap(next, settings) } or { name, phases(settings) } (did you pass the module instead of its export?)')
    }
  })
  for (let i = middleware.length - 1; i >= 0; i--) {
    const mw = middleware[i]!
    const layer = `Middleware '${mw.name}'`
    const trace: LayerTrace = { name: `middleware ${mw.name}`, middleware: mw.name, marks: true }
    if (mw.phases !== undefined) {
      const p = mw.phases(settings)
      if (p === null) continue // Django's MiddlewareNotUsed
      if (typeof p !== 'object' || (p.request !== undefined && typeof p.request !== 'function') || (p.response !== undefined && typeof p.response !== 'function')) {
        throw new ConfigError(`app.middleware[${i}] (${mw.name})`, `phases() returned ${describe(p)}; it must return { request?(req), response?(req, res) }, or null when not used`)
      }
      pending.unshift({ phases: p, layer, trace })
    } else {
      const below = pending.length > 0 ? phasedLayer(pending, built, onError) : built
      const next = new PassThrough(below.handler)
      const h = mw.wrap!(next.next, settings)
      if (h === null) continue // Django's MiddlewareNotUsed (the phased layers below stay pending)
      if (typeof h !== 'function') {
        throw new ConfigError(`app.middleware[${i}] (${mw.name})`, `wrap() returned ${describe(h)}; it must return a handler (req) => Promise<HttpResponse>, or null when not used`)
      }
      pending = []
      built = wrappedLayer(h, next, layer, trace, onError)
    }
    used.unshift(mw)
    traces.unshift(trace)
  }
  if (pending.length > 0) built = phasedLayer(pending, built, onError)
  // The outermost layer is called by the app, not by a middleware: no phase marks there.
  if (traces.length > 0) traces[0]!.marks = false
  baseTrace.marks = traces.length > 0
  const viewHooks: ViewHook[] = []
  const exceptionHooks: ExceptionHook[] = []
  const viewHookNames: string[] = []
  const exceptionHookNames: string[] = []
  for (const mw of used) if (mw.view) { viewHooks.push(mw.view.bind(mw)); viewHookNames.push(mw.name) }
  for (let i = used.length - 1; i >= 0; i--) if (used[i]!.exception) { exceptionHooks.push(used[i]!.exception!.bind(used[i]!)); exceptionHookNames.push(used[i]!.name) }
  return { handler: built.handler, used, viewHooks, exceptionHooks, viewHookNames, exceptionHookNames, endingIn: built.endingIn }
}
