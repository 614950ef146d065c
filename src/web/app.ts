// createApp: settings validated, middleware onion and URL dispatch built once; `handle` is the
// node:http fast path the app server calls; `fetch` adapts WHATWG Request/Response for other hosts.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { App } from '../contract.ts'
import { CausewayError, ConfigError } from '../errors.ts'
import { HttpRequest } from './request.ts'
import { HttpError } from './http-error.ts'
import type { HttpResponse } from './response.ts'
import { resolveWebSettings, type WebSettings } from './settings.ts'
import { hostValidator, type HostCheck } from './hosts.ts'
import { buildOnion, type ErrorHandler, type Onion } from './middleware.ts'
import { makeDispatch, type DispatchHooks } from './dispatch.ts'
import { responseForError, type ErrorContext } from './error-response.ts'
import { writeResponse } from './write.ts'
import { stderrLogger, type Logger } from './log.ts'
import { fetchThroughApp } from './fetch.ts'
import { createTemplateEngine, type TemplateEngineOptions } from './templates/index.ts'
import { compileUrls, type UrlEntry, type UrlModule } from './urls/index.ts'
import type { AppRuntime, Handler, Middleware, Resolver, TemplateEngine } from './types.ts'
import { journeyEnabled } from '../journey/index.ts'
import { recordStatus, traceRequest } from './journey.ts'

export interface CreateAppOptions {
  /** The URL patterns (`[path(...), ...]`), a URL module (`{ urlpatterns }`), or a compiled Resolver. */
  urls: Resolver | readonly UrlEntry[] | UrlModule
  /** Outermost first, as in Django's MIDDLEWARE. */
  middleware?: Middleware[]
  /** The `app` settings (validated; DEBUG, SECRET_KEY and ALLOWED_HOSTS also come from the environment). */
  settings?: Record<string, unknown>
  /** A template engine; default: createTemplateEngine() over TEMPLATE_DIRS (Nunjucks). */
  templates?: TemplateEngine
  /** Context processors for the default engine (default: request, user, messages, csrf). */
  contextProcessors?: TemplateEngineOptions['contextProcessors']
  /** Relative TEMPLATE_DIRS and STATIC_MANIFEST resolve against this (default: the current directory). */
  root?: string
  logger?: Logger
  /** Environment used for overrides (default process.env). */
  env?: NodeJS.ProcessEnv
  /** Runs once per worker before it takes traffic (open pools, warm caches). */
  onReady?: () => Promise<void> | void
  /** Runs on graceful shutdown. */
  onClose?: () => Promise<void> | void
}

/**
 * The first Host header, read from rawHeaders: node builds `req.headers` lazily, and a request
 * whose view never looks at headers should not pay for that object.
 */
function hostHeader(raw: IncomingMessage): string | undefined {
  const h = raw.rawHeaders
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!
    if (name.length === 4 && (name === 'Host' || name.toLowerCase() === 'host')) return h[i + 1]
  }
  return undefined
}

function toResolver(urls: CreateAppOptions['urls']): Resolver {
  if (Array.isArray(urls)) return compileUrls(urls)
  if (urls && typeof (urls as Resolver).resolve === 'function') return urls as Resolver
  if (urls && Array.isArray((urls as UrlModule).urlpatterns)) return compileUrls((urls as UrlModule).urlpatterns)
  throw new ConfigError('app.urls', 'must be a list of path() patterns, a module with `urlpatterns`, or compileUrls([...])')
}

/**
 * @example
 * export default createApp({
 *   urls: compileUrls([path('', home, { name: 'home' })]),
 *   middleware: [securityMiddleware, sessionMiddleware],
 *   settings: { ALLOWED_HOSTS: ['.example.com'] },
 * })
 */
export class CausewayApp implements App {
  readonly settings: WebSettings
  readonly runtime: AppRuntime
  readonly logger: Logger
  readonly #handler: Handler
  readonly #onion: Onion
  readonly #hostOk: HostCheck
  readonly #errors: ErrorContext
  readonly #onError: ErrorHandler
  readonly #opts: CreateAppOptions
  /** The last Host header that passed the ALLOWED_HOSTS check. */
  #lastHost: string | undefined = undefined
  /** The onion for an unrecorded request on the node:http path, ending in #send (Onion.endingIn). */
  readonly #serveOnion: (req: HttpRequest, res: ServerResponse) => Promise<void>

  constructor(opts: CreateAppOptions) {
    this.#opts = opts
    this.logger = opts.logger ?? stderrLogger(undefined)
    const middleware = opts.middleware ?? []
    const extra = middleware.flatMap((m) => (m?.settings ? [m.settings] : []))
    this.settings = resolveWebSettings(opts.settings, {
      extra, env: opts.env,
      warn: (message) => this.logger.log({ level: 'warn', message }),
    })
    const urls = toResolver(opts.urls)
    const templates = opts.templates ?? createTemplateEngine({
      settings: this.settings, root: opts.root, urls,
      ...(opts.contextProcessors !== undefined && { contextProcessors: opts.contextProcessors }),
    })
    this.runtime = { settings: this.settings, urls, templates }
    this.#errors = { debug: this.settings.DEBUG, logger: this.logger, templates }
    this.#hostOk = hostValidator(this.settings.ALLOWED_HOSTS, this.settings.DEBUG)
    const hooks: DispatchHooks = { viewHooks: [], exceptionHooks: [] }
    const onError = (req: HttpRequest, e: unknown) => responseForError(req, e, this.#errors)
    this.#onError = onError
    this.#onion = buildOnion(middleware, makeDispatch(urls, hooks, this.settings, onError), this.settings, onError)
    hooks.viewHooks = this.#onion.viewHooks
    hooks.exceptionHooks = this.#onion.exceptionHooks
    hooks.viewHookNames = this.#onion.viewHookNames
    hooks.exceptionHookNames = this.#onion.exceptionHookNames
    this.#handler = this.#onion.handler
    this.#serveOnion = this.#onion.endingIn<ServerResponse, void>((req, res, resp) => this.#send(req, res, resp))
    // Bound (pass `app.handle` to http.createServer): a closure, which node's emit calls directly
    // (a bound function costs an extra builtin hop per request).
    this.handle = (raw, res) => this.#handle(raw, res)
  }

  /** The middleware in use (those whose wrap() did not return null), outermost first. */
  get middleware(): readonly Middleware[] {
    return this.#onion.used
  }

  /**
   * Runs one request through host checks and the onion; never throws. With the journey on, a
   * request that `handle` did not already trace is recorded here (the fetch adapter, tests).
   */
  run(req: HttpRequest): Promise<HttpResponse> {
    if (req.journeySpan === undefined && journeyEnabled()) return traceRequest(req, this.#runRecorded)
    return this.#refuse(req) ?? this.#handler(req)
  }

  /** The 400 for an undecodable path or a Host not in ALLOWED_HOSTS (before any middleware), else undefined. */
  #refuse(req: HttpRequest): Promise<HttpResponse> | undefined {
    if (req.pathError !== undefined) return responseForError(req, new HttpError(400, req.pathError), this.#errors)
    const host = hostHeader(req.raw)
    // Most requests repeat the previous Host: a string comparison instead of hashing a fresh string.
    if (host !== undefined && host === this.#lastHost) return undefined
    if (!this.#hostOk(host ?? req.host)) {
      const shown = req.host
      return responseForError(req, new HttpError(400, `Invalid Host header ${JSON.stringify(shown)}. You may need to add '${shown.replace(/:\d+$/, '')}' to ALLOWED_HOSTS.`), this.#errors)
    }
    if (host !== undefined) this.#lastHost = host
    return undefined
  }

  // run() for a request that traceRequest has just bound to its span (or to null): run() then
  // takes the plain path.
  readonly #runRecorded = async (req: HttpRequest): Promise<HttpResponse> => {
    const resp = await this.run(req)
    recordStatus(req, resp.status)
    return resp
  }

  /**
   * The node:http entry point (bound: pass `app.handle` directly to http.createServer). With the
   * journey on, the request is one span (continuing the caller's `traceparent`, or nested under the
   * app server's span) that ends once the response is written.
   */
  handle(raw: IncomingMessage, res: ServerResponse): void | Promise<void> {
    return this.#handle(raw, res)
  }

  // Without the journey, nothing waits for the request to finish (the response is never a
  // rejection: #send converts its own failures), so no promise is handed back: node's emit and
  // the app server would each attach a reaction to it per request.
  #handle(raw: IncomingMessage, res: ServerResponse): void | Promise<void> {
    const req = new HttpRequest(raw, this.runtime)
    // A request the journey decided not to record (journeySpan null) takes the plain path too.
    if (journeyEnabled()) return traceRequest(req, (r) => (r.journeySpan ? this.#serve(r, res) : this.#serveUnrecorded(r, res)))
    void this.#serveUnrecorded(req, res)
  }

  // run() for an unrecorded request, in plain code: no async frame, and the response is written
  // from the outermost layer's own last reaction (see Onion.endingIn).
  #serveUnrecorded(req: HttpRequest, res: ServerResponse): Promise<void> {
    let refused: Promise<HttpResponse> | undefined
    try {
      refused = this.#refuse(req)
    } catch (e) {
      refused = this.#onError(req, e)
    }
    if (refused !== undefined) return refused.then((resp) => this.#send(req, res, resp))
    return this.#serveOnion(req, res)
  }

  // A recorded request: the onion layer by layer in its spans, then the writer. One `then`, not an
  // async frame with two awaits (three promises, each a hook call with the journey on).
  #serve(req: HttpRequest, res: ServerResponse): Promise<void> {
    return this.run(req).then((resp) => this.#send(req, res, resp))
  }

  /**
   * Writes the response and, once it is sent, removes uploaded files. Never throws; returns a
   * promise only when something is still under way (a streamed body, a cleanup).
   */
  #send(req: HttpRequest, res: ServerResponse, resp: HttpResponse): void | Promise<void> {
    recordStatus(req, resp.status)
    let sending: void | Promise<void> = undefined
    try {
      sending = writeResponse(req.method, resp, res)
    } catch (e) {
      this.#writeFailed(req, res, e)
    }
    if (sending !== undefined) {
      return sending.then(() => this.#cleanup(req), (e: unknown) => {
        this.#writeFailed(req, res, e)
        return this.#cleanup(req)
      })
    }
    return this.#cleanup(req)
  }

  #writeFailed(req: HttpRequest, res: ServerResponse, e: unknown): void {
    // A client that hangs up mid-stream is routine, not an application error.
    const gone = req.raw.destroyed || (e as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE'
    this.logger.log({ level: gone ? 'debug' : 'error', message: `${req.method} ${req.path}: writing the response failed`, requestId: req.id, error: e })
    if (!res.headersSent) {
      res.writeHead(500, ['content-type', 'text/plain; charset=utf-8', 'content-length', '21'])
      res.end('Internal Server Error')
    } else {
      res.destroy()
    }
  }

  #cleanup(req: HttpRequest): void | Promise<void> {
    if (req.needsCleanup) return req.cleanup().catch((e) => this.logger.log({ level: 'warn', message: 'removing uploaded files failed', requestId: req.id, error: e }))
  }

  /** WHATWG adapter for Fetch-standard hosts and tests; not the hot path. */
  fetch(request: Request): Promise<Response> {
    return fetchThroughApp(this, request)
  }

  /** Compiles the templates (syntax errors surface before traffic), then runs `onReady`. */
  async ready(): Promise<void> {
    const t = this.runtime.templates as TemplateEngine & { precompile?(): { errors: Error[] } }
    const errors = t.precompile?.().errors ?? []
    if (errors.length > 0) {
      const list = errors.map((e) => e.message).join('\n  ')
      if (!this.settings.DEBUG) throw new CausewayError('CW_ERR_TEMPLATE', `${errors.length} template(s) failed to compile:\n  ${list}`)
      this.logger.log({ level: 'warn', message: `${errors.length} template(s) failed to compile:\n  ${list}` })
    }
    await this.#opts.onReady?.()
  }

  async close(): Promise<void> {
    await this.#opts.onClose?.()
  }
}

/** Builds the app once: settings validated, middleware wrapped, URL dispatch ready. */
export function createApp(opts: CreateAppOptions): CausewayApp {
  return new CausewayApp(opts)
}
