// The template engine the app holds (`req.app.templates`): a backend (Nunjucks by default) plus
// the helpers every template gets (`url()`, `static()`) and the context processors, which run
// only when a template is rendered with a request.
import { resolve } from 'node:path'
import { ConfigError } from '../../errors.ts'
import type { HttpRequest } from '../request.ts'
import type { Resolver as ResolverContract, TemplateEngine } from '../types.ts'
import type { WebSettings } from '../settings.ts'
import { NunjucksBackend, type TemplateBackend, type TemplateFilter } from './nunjucks.ts'
import { builtinContextProcessors, DEFAULT_CONTEXT_PROCESSORS, userLoading, type BuiltinProcessorName, type ContextProcessor } from './context.ts'
import { staticUrlBuilder } from './static.ts'
import { Resolver } from '../urls/resolver.ts'
import { isRecording, span } from '../../journey/index.ts'

export interface TemplateEngineOptions {
  /** Web settings to take defaults from: TEMPLATE_DIRS, DEBUG, STATIC_URL, STATIC_MANIFEST. */
  settings?: Partial<WebSettings>
  /** Relative directories resolve against this (default: the current directory). */
  root?: string
  /** Project template directories, searched first (default settings.TEMPLATE_DIRS or ['templates']). */
  dirs?: readonly string[]
  /** App template directories, searched after `dirs` (Django's APP_DIRS), first found wins. */
  appDirs?: readonly string[]
  /** Debug: recompile changed templates; static() ignores the manifest. Default settings.DEBUG. */
  debug?: boolean
  /** Default: ['request', 'user', 'messages', 'csrf']. Functions are your own processors. */
  contextProcessors?: readonly (ContextProcessor | BuiltinProcessorName)[]
  globals?: Record<string, unknown>
  filters?: Record<string, TemplateFilter>
  /** For url(); default: the rendering request's `req.app.urls`. */
  urls?: ResolverContract | (() => ResolverContract | undefined)
  staticUrl?: string
  /** JSON manifest of hashed static names (`{ "paths": { "css/app.css": "css/app.3f2a9c.css" } }`). */
  staticManifest?: string
  /** A name missing from the manifest is an error (default true). */
  staticManifestStrict?: boolean
  /** Another backend instead of Nunjucks (it then gets `url`/`static` through addGlobal if it has one). */
  backend?: TemplateBackend
  trimBlocks?: boolean
  lstripBlocks?: boolean
}

type Ctx = Record<string, unknown>

/**
 * @example
 * const templates = createTemplateEngine({ dirs: ['templates'], contextProcessors: ['request', (req) => ({ cart: req.state.cart })] })
 * templates.render('shop/product.html', { product }, req)
 */
export class CausewayTemplateEngine implements TemplateEngine {
  readonly backend: TemplateBackend
  readonly #processors: ContextProcessor[]

  constructor(opts: TemplateEngineOptions = {}) {
    const s = opts.settings ?? {}
    const root = opts.root ?? process.cwd()
    const dirs = [...(opts.dirs ?? (s.TEMPLATE_DIRS as string[] | undefined) ?? ['templates']), ...(opts.appDirs ?? [])]
      .map((d) => resolve(root, d))
    const debug = opts.debug ?? Boolean(s.DEBUG)
    this.#processors = (opts.contextProcessors ?? DEFAULT_CONTEXT_PROCESSORS).map((p, i) => {
      if (typeof p === 'function') return p
      const builtin = builtinContextProcessors[p as BuiltinProcessorName]
      if (!builtin) throw new ConfigError(`templates.contextProcessors[${i}]`, `unknown context processor ${JSON.stringify(p)} (built-ins: ${Object.keys(builtinContextProcessors).join(', ')})`)
      return builtin
    })
    const staticFn = staticUrlBuilder({
      staticUrl: opts.staticUrl ?? (s.STATIC_URL as string | undefined) ?? '/static/',
      manifest: opts.staticManifest ?? ((s.STATIC_MANIFEST as string | undefined) ? resolve(root, s.STATIC_MANIFEST as string) : undefined),
      strict: opts.staticManifestStrict ?? true,
      debug,
    })
    const urls = opts.urls
    const resolverFor = (ctx: Ctx | undefined): ResolverContract => {
      const r = typeof urls === 'function' ? urls() : urls ?? ((ctx?.request as HttpRequest | undefined)?.app?.urls)
      if (!r) throw new Error('url() needs a URL resolver: render with a request, or pass `urls` to createTemplateEngine()')
      return r
    }
    // Called by nunjucks with the template context as `this`.
    function url(this: { ctx?: Ctx } | undefined, name: string, params?: Record<string, unknown>, query?: Record<string, unknown>): string {
      let p = params
      if (p && (p as { __keywords?: boolean }).__keywords) {
        // Nunjucks' keyword arguments, less its marker (a loop: object rest takes V8's slow path).
        const rest: Record<string, unknown> = {}
        for (const k of Object.keys(p)) if (k !== '__keywords') rest[k] = (p as Record<string, unknown>)[k]
        p = rest
      }
      // Like Django's {% url %}: an application namespace resolves to the instance serving the
      // current request first (request.resolverMatch.namespace).
      const current = (this?.ctx?.request as HttpRequest | undefined)?.resolverMatch?.namespace
      const r = resolverFor(this?.ctx)
      return current && r instanceof Resolver ? r.reverse(name, p ?? {}, query, { currentApp: current }) : r.reverse(name, p ?? {}, query)
    }
    this.backend = opts.backend ?? new NunjucksBackend({
      dirs, debug, ...(opts.trimBlocks !== undefined && { trimBlocks: opts.trimBlocks }), ...(opts.lstripBlocks !== undefined && { lstripBlocks: opts.lstripBlocks }),
    })
    this.backend.addGlobal?.('url', url)
    this.backend.addGlobal?.('static', staticFn)
    for (const [name, fn] of Object.entries(opts.filters ?? {})) this.addFilter(name, fn)
    for (const [name, value] of Object.entries(opts.globals ?? {})) this.addGlobal(name, value)
  }

  /**
   * Renders a template. With `req`, the context processors' values are added under `context`.
   * In a recorded request the render (context processors included) is one `template <name>` span.
   */
  render(name: string, context: Ctx = {}, req?: HttpRequest): string | Promise<string> {
    return this.renderThen(name, context, req, asIs)
  }

  /**
   * render() with `then` applied to the output in the same step, so an asynchronous render (a
   * user still to load) costs no further reaction: `render(req, …)` builds its response here.
   * @example engine.renderThen('shop/cart.html', ctx, req, (body) => html(body))
   */
  renderThen<T>(name: string, context: Ctx = {}, req: HttpRequest | undefined, then: (output: string) => T): T | Promise<T> {
    if (isRecording()) return span(`template ${name}`, { 'causeway.template': name }, () => this.#render(name, context, req, then))
    return this.#render(name, context, req, then)
  }

  #render<T>(name: string, context: Ctx, req: HttpRequest | undefined, then: (output: string) => T): T | Promise<T> {
    if (req === undefined || this.#processors.length === 0) return applyThen(this.backend.render(name, context), then)
    const merged: Ctx = {}
    let pending: Promise<Record<string, unknown>>[] | undefined
    let user: Promise<unknown> | undefined
    for (const p of this.#processors) {
      // The built-in `user`, when the user is still to load: its promise is awaited below as it
      // is (the processor would add a reaction to wrap it in `{ user }`).
      if (p === userProcessor && (user = userLoading(req)) !== undefined) continue
      const out = p(req)
      if (out instanceof Promise) (pending ??= []).push(out)
      else Object.assign(merged, out)
    }
    if (user !== undefined) {
      // Usually the only wait (the user, loaded on the first page that asks): it is merged and the
      // template rendered in one reaction.
      if (pending === undefined) {
        return user.then((u) => {
          merged.user = u ?? null
          return applyThen(this.backend.render(name, Object.assign(merged, context)), then)
        })
      }
      pending.push(user.then((u) => ({ user: u ?? null })))
    }
    if (pending === undefined) return applyThen(this.backend.render(name, Object.assign(merged, context)), then)
    if (pending.length === 1) {
      return pending[0]!.then((o) => applyThen(this.backend.render(name, Object.assign(Object.assign(merged, o), context)), then))
    }
    return Promise.all(pending.map((p) => p.then((o) => Object.assign(merged, o)))).then(() => applyThen(this.backend.render(name, Object.assign(merged, context)), then))
  }

  has(name: string): boolean {
    return this.backend.has?.(name) ?? false
  }

  addFilter(name: string, fn: TemplateFilter): void {
    if (!this.backend.addFilter) throw new ConfigError(`templates.filters.${name}`, 'this template backend has no filters')
    this.backend.addFilter(name, fn)
  }

  addGlobal(name: string, value: unknown): void {
    if (!this.backend.addGlobal) throw new ConfigError(`templates.globals.${name}`, 'this template backend has no globals')
    this.backend.addGlobal(name, value)
  }

  /** Compiles every template now (call at startup): syntax errors surface before traffic. */
  precompile(): { compiled: number; errors: Error[] } {
    return this.backend.precompile?.() ?? { compiled: 0, errors: [] }
  }
}

const asIs = (output: string): string => output

// A backend may render asynchronously (its own promise): `then` follows it.
function applyThen<T>(out: string | Promise<string>, then: (output: string) => T): T | Promise<T> {
  return typeof out === 'string' ? then(out) : out.then(then)
}
const userProcessor = builtinContextProcessors.user

export function createTemplateEngine(options?: TemplateEngineOptions): CausewayTemplateEngine {
  return new CausewayTemplateEngine(options)
}
