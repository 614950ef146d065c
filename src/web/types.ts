// The shapes shared by the framework's parts: views, handlers, middleware, the resolver and the
// template engine. web-urls implements Resolver and TemplateEngine; web-core consumes them.
import type { HttpRequest } from './request.ts'
import type { HttpResponse } from './response.ts'
import type { WebSettings } from './settings.ts'
import type { SettingsTable } from '../settings-table.ts'

/** A view: `(req, params) => response`. Class-based views compile to the same shape. */
export type View<P = Record<string, any>> = (req: HttpRequest, params: P) => HttpResponse | Promise<HttpResponse>

/** One layer of the onion: takes the request, returns the response. */
export type Handler = (req: HttpRequest) => Promise<HttpResponse>

/**
 * Django-style middleware, in one of two forms. `wrap` runs once at startup with the next handler
 * and returns this layer's handler (or null: not used): code before `next(req)` is the request
 * phase, code after it the response phase. `phases` (Django's process_request/process_response)
 * runs once at startup and returns the two phases as hooks (or null: not used); the framework
 * calls them around the layers below, and can run the response phases of neighbouring phased
 * layers in one promise reaction instead of two per layer. Give one of the two.
 *
 * @example
 * const timing: Middleware = {
 *   name: 'timing',
 *   wrap: (next) => async (req) => {
 *     const t0 = performance.now()
 *     const res = await next(req)
 *     res.setHeader('server-timing', `app;dur=${performance.now() - t0}`)
 *     return res
 *   },
 * }
 * const poweredBy: Middleware = {
 *   name: 'poweredBy',
 *   phases: () => ({ response: (_req, res) => res.setHeader('x-powered-by', 'causeway') }),
 * }
 */
export interface Middleware {
  name: string
  wrap?(next: Handler, settings: WebSettings): Handler | null
  phases?(settings: WebSettings): MiddlewarePhases | null
  /** process_view: sees the resolved view and params; a response here skips the view. */
  view?(req: HttpRequest, view: View<any>, params: Record<string, unknown>): HttpResponse | void | Promise<HttpResponse | void>
  /** process_exception: turns an error raised by the view into a response. */
  exception?(req: HttpRequest, error: unknown): HttpResponse | void | Promise<HttpResponse | void>
  /** Extra settings this middleware reads (validated with the web settings at startup). */
  settings?: SettingsTable
}

/**
 * A middleware layer as its two phases. Exactly what this `wrap` would do, errors included:
 * `(req) => { const r = request(req); return r ? r : next(req).then((res) => response(req, res)) }`
 * (a response from `request` short-circuits: the layers below, the view and this layer's own
 * `response` are skipped; the layers above still see it). Per-request state the response phase
 * needs goes on `req.state` (under a symbol, for a middleware's private state).
 */
export interface MiddlewarePhases {
  /** Top-down, before the layers below: nothing to go on, or a response to answer with. */
  request?(req: HttpRequest): HttpResponse | void | Promise<HttpResponse | void>
  /** Bottom-up, with the response of the layers below: the response to pass up (this one changed, or another). */
  response?(req: HttpRequest, res: HttpResponse): HttpResponse | Promise<HttpResponse>
}

export interface ResolverMatch {
  kind: 'match'
  view: View<any>
  params: Record<string, unknown>
  /** The full route pattern that matched, e.g. 'shop/products/<slug:slug>/'. */
  route: string
  name?: string
  namespace?: string
  appName?: string
}

export interface ResolveNotFound {
  kind: 'notFound'
  /** The patterns tried, for the DEBUG 404 page. */
  tried: string[]
}

export interface ResolveMethodNotAllowed {
  kind: 'methodNotAllowed'
  allowed: string[]
}

export type ResolveResult = ResolverMatch | ResolveNotFound | ResolveMethodNotAllowed

/** A compiled URL configuration (web-urls' `compileUrls(patterns)`). */
export interface Resolver {
  /** `path` is the percent-decoded path with its leading '/'. */
  resolve(path: string, method: string): ResolveResult
  reverse(name: string, params?: Record<string, unknown>, query?: Record<string, unknown>): string
}

/** A template engine (web-urls' `createTemplateEngine`). */
export interface TemplateEngine {
  /** Renders `name`; `req` (when given) feeds the context processors. */
  render(name: string, context?: Record<string, unknown>, req?: HttpRequest): string | Promise<string>
  /** Whether a template exists (used to pick overridable error pages such as 404.html). */
  has?(name: string): boolean
  /** Optional: render() with `then` applied to the output in the render's own last step (render(req, …) builds its response there). */
  renderThen?<T>(name: string, context: Record<string, unknown> | undefined, req: HttpRequest | undefined, then: (output: string) => T): T | Promise<T>
}

/** What every request can reach through `req.app`. */
export interface AppRuntime {
  settings: WebSettings
  urls: Resolver
  templates: TemplateEngine
}

/**
 * Typed per-request state. Other parts add fields by declaration merging:
 *
 * @example
 * declare module 'causeway/web' { interface RequestState { cart?: Cart } }
 */
export interface RequestState {
  session?: unknown
  user?: unknown
  csrfToken?: string
  journey?: unknown
  [key: string]: unknown
}
