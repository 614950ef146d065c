// The innermost handler: resolve the URL, run the view phase, call the view, run the exception
// phase. 404/405 and the APPEND_SLASH redirect are decided here.
import { HttpError, methodNotAllowed } from './http-error.ts'
import { HttpResponse } from './response.ts'
import { Boundary, isPlainPromise, isResponse, type Ending, type ErrorHandler, type ExceptionHook, type ViewHook } from './middleware.ts'
import type { HttpRequest } from './request.ts'
import type { Handler, Resolver, ResolverMatch, ResolveMethodNotAllowed, ResolveNotFound, ResolveResult } from './types.ts'
import { recordRoute, traceHook, traceResolve, traceView } from './journey.ts'

export interface DispatchHooks {
  viewHooks: ViewHook[]
  exceptionHooks: ExceptionHook[]
  /** Middleware names of the hooks (journey span names); absent: 'anonymous'. */
  viewHookNames?: string[]
  exceptionHookNames?: string[]
}

const asItIs = (_req: HttpRequest, _x: unknown, res: HttpResponse): HttpResponse => res

// '//evil.example/' as a Location is protocol-relative: keep redirects on this site.
const escapeLeadingSlashes = (p: string) => (p.startsWith('//') ? '/%2F' + p.slice(2) : p)

/**
 * The base handler. It is the innermost layer boundary, so it converts its own errors with
 * `onError` (no separate guard around it). Its `endingIn` hands the response on from the view's
 * own reaction (see middleware.ts Ending).
 */
export function makeDispatch(urls: Resolver, hooks: DispatchHooks, settings: { APPEND_SLASH: boolean; DEBUG: boolean }, onError: ErrorHandler): Handler & { endingIn: Ending } {
  function resolve(req: HttpRequest): ResolveResult {
    const r = urls.resolve(req.path, req.method)
    if (r.kind === 'methodNotAllowed' && req.method === 'HEAD' && r.allowed.includes('GET')) return urls.resolve(req.path, 'GET')
    return r
  }

  const notAResponse = (r: ResolverMatch, res: unknown) =>
    new TypeError(`The view for '${r.route}'${r.name ? ` (${r.name})` : ''} returned ${res === undefined ? 'undefined' : typeof res} instead of an HttpResponse. Did you forget a return statement?`)

  /** An error from the view: the exception hooks may answer it (bottom-up), else the error page. */
  async function viewFailed(req: HttpRequest, e: unknown): Promise<HttpResponse> {
    try {
      const { exceptionHooks } = hooks
      for (let i = 0; i < exceptionHooks.length; i++) {
        const handled = await exceptionHooks[i]!(req, e)
        if (handled) return handled
      }
    } catch (hookError) {
      return onError(req, hookError)
    }
    return onError(req, e)
  }

  /** Calls the view (its errors go to the exception hooks). */
  function runView(req: HttpRequest, r: ResolverMatch): Promise<HttpResponse> {
    let out: unknown
    try {
      out = r.view(req, r.params)
    } catch (e) {
      return viewFailed(req, e)
    }
    if (out instanceof Promise) return out.then((res) => (isResponse(res) ? res : viewFailed(req, notAResponse(r, res))), (e: unknown) => viewFailed(req, e))
    return isResponse(out) ? Promise.resolve(out) : viewFailed(req, notAResponse(r, out))
  }

  /**
   * The view hooks from the one at `i`, whose answer is still pending, on (then the view): only
   * a hook that answers later puts the rest of an unrecorded request into an async frame.
   */
  async function afterPendingHook(req: HttpRequest, r: ResolverMatch, i: number, pending: unknown): Promise<HttpResponse> {
    try {
      const early = await pending
      if (early) return early as HttpResponse
      const { viewHooks } = hooks
      for (let j = i + 1; j < viewHooks.length; j++) {
        const h = viewHooks[j]!(req, r.view, r.params)
        const next = h === undefined || h === null || isResponse(h) ? h : await h
        if (next) return next
      }
    } catch (e) {
      return onError(req, e)
    }
    return runView(req, r)
  }

  /**
   * The common case, an unrecorded request, in plain code: no async frame of its own, so view
   * hooks that answer at once (most do, for most requests) and a view that answers at once cost
   * no promise reaction here. The same steps and error handling as dispatchInSteps. The response
   * goes to `answer`: from the one `then` on the view's promise, when the view answers later.
   */
  const endingIn: Ending = <X, R>(answer: (req: HttpRequest, x: X, res: HttpResponse) => R | Promise<R>) => {
    // (The plain handler's answer is the response itself: its promise needs no further `then`.)
    const later = answer === (asItIs as unknown)
      ? (_req: HttpRequest, _x: X, out: Promise<HttpResponse>): Promise<R> => out as Promise<R>
      : (req: HttpRequest, x: X, out: Promise<HttpResponse>): Promise<R> => out.then((res) => answer(req, x, res))
    const now = (req: HttpRequest, x: X, res: HttpResponse): Promise<R> => Promise.resolve(answer(req, x, res))
    // The view's promise: a response goes on; an error or anything else goes to the exception hooks.
    const view = new Boundary<X, R | Promise<R>>('The view', answer, (req, x, e) => later(req, x, viewFailed(req, e)),
      (req, v) => notAResponse(req.resolverMatch as ResolverMatch, v))
    return (req: HttpRequest, x: X): Promise<R> => {
      if (req.journeySpan) return later(req, x, dispatchInSteps(req))
      let r: ResolveResult
      try {
        r = resolve(req)
        if (r.kind !== 'match') return now(req, x, notMatched(req, r))
      } catch (e) {
        return later(req, x, onError(req, e))
      }
      req.resolverMatch = r
      const { viewHooks } = hooks
      for (let i = 0; i < viewHooks.length; i++) {
        let h: unknown
        try {
          h = viewHooks[i]!(req, r.view, r.params)
        } catch (e) {
          return later(req, x, onError(req, e))
        }
        if (h === undefined || h === null) continue
        if (isResponse(h)) return now(req, x, h)
        return later(req, x, afterPendingHook(req, r, i, h))
      }
      let out: unknown
      try {
        out = r.view(req, r.params)
      } catch (e) {
        return later(req, x, viewFailed(req, e))
      }
      if (out instanceof Promise) return view.settle(isPlainPromise(out) ? out : Promise.resolve(out), req, x) as Promise<R>
      return isResponse(out) ? now(req, x, out) : later(req, x, viewFailed(req, notAResponse(r, out)))
    }
  }
  const dispatch = endingIn<undefined, HttpResponse>(asItIs)

  // Every step, for a request with view hooks or a recorded request (req.journeySpan set: each
  // step runs in its journey span; the closures below are made for recorded requests only).
  async function dispatchInSteps(req: HttpRequest): Promise<HttpResponse> {
    const traced = req.journeySpan
    try {
      const r = traced ? traceResolve(req, resolve) : resolve(req)
      if (r.kind !== 'match') return notMatched(req, r)
      req.resolverMatch = r
      if (traced) recordRoute(req, r)
      const { viewHooks, exceptionHooks } = hooks
      for (let i = 0; i < viewHooks.length; i++) {
        const hook = viewHooks[i]!
        const h = traced ? traceHook('view', hooks.viewHookNames?.[i] ?? 'anonymous', () => hook(req, r.view, r.params)) : hook(req, r.view, r.params)
        // A hook that answered synchronously (most do, for most requests) is not awaited.
        const early = h === undefined || h === null || isResponse(h) ? h : await h
        if (early) return early
      }
      try {
        const out = traced
          ? traceView(r, () => r.view(req, r.params))
          : r.view(req, r.params)
        const res = out instanceof Promise ? await out : out
        if (!isResponse(res)) throw notAResponse(r, res)
        return res
      } catch (e) {
        for (let i = 0; i < exceptionHooks.length; i++) {
          const hook = exceptionHooks[i]!
          const handled = await (traced ? traceHook('exception', hooks.exceptionHookNames?.[i] ?? 'anonymous', () => hook(req, e)) : hook(req, e))
          if (handled) return handled
        }
        throw e
      }
    } catch (e) {
      return onError(req, e)
    }
  }

  return Object.assign((req: HttpRequest) => dispatch(req, undefined), { endingIn })

  /** 405, the APPEND_SLASH redirect, or 404 (with the patterns tried, for the DEBUG page). */
  function notMatched(req: HttpRequest, r: ResolveNotFound | ResolveMethodNotAllowed): HttpResponse {
    if (r.kind === 'methodNotAllowed') throw methodNotAllowed(r.allowed)
    if (settings.APPEND_SLASH && !req.path.endsWith('/') && urls.resolve(req.path + '/', req.method).kind !== 'notFound') {
      if (settings.DEBUG && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH')) {
        throw new Error(`You called this URL via ${req.method}, but the URL doesn't end in a slash and you have APPEND_SLASH set. ` +
          `Causeway can't redirect to the slash URL while keeping ${req.method} data. ` +
          `Change your form to point to ${req.rawPath}/ (note the trailing slash), or set APPEND_SLASH: false.`)
      }
      const res = new HttpResponse('', { status: 301 })
      res.headers['location'] = escapeLeadingSlashes(req.rawPath + '/') + (req.queryString ? '?' + req.queryString : '')
      return res
    }
    const err = new HttpError(404, `No URL pattern matches '${req.path}'`)
    err.tried = r.tried
    throw err
  }
}
