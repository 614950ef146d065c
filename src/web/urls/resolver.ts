// compileUrls(): the URL table → a Resolver, built once at startup. resolve() answers a match,
// a 404 (with the patterns tried, for the debug page) or a 405 (with the methods allowed);
// reverse() builds URLs from names, namespaced like Django's 'shop:product'.
import { ConfigError } from '../../errors.ts'
import { snapshotConverters, spansSegments, type Converter } from './converters.ts'
import { joinTokens, parseRoute, type RouteToken } from './route.ts'
import type { RouteView, UrlEntry } from './patterns.ts'
import type { Resolver as ResolverContract } from '../types.ts'
import { SegmentTrie, type Endpoint } from './trie.ts'
import {
  NoReverseMatch, describeParams, encodeQuery, reverseCandidate, tryReverse,
  type QueryInput, type ReverseCandidate,
} from './reverse.ts'

export interface ResolverMatch {
  kind: 'match'
  view: RouteView
  /** Converted parameters (include prefixes' too), over the route's `defaults`. */
  params: Record<string, unknown>
  /** The full route, prefixes included: `'shop/products/<slug:slug>/'`. */
  route: string
  name?: string
  /** Instance namespaces joined with ':' (`'admin:shop'`). */
  namespace?: string
  appName?: string
  namespaces: readonly string[]
  appNames: readonly string[]
  /** `namespace:name`, what reverse() takes to build this URL again. */
  viewName?: string
}

export interface NotFound { kind: 'notFound'; tried: string[] }
export interface MethodNotAllowed { kind: 'methodNotAllowed'; allowed: string[] }
export type ResolveResult = ResolverMatch | NotFound | MethodNotAllowed

export interface ReverseOptions {
  /** Prefer this instance namespace for an application namespace (Django's current_app). */
  currentApp?: string
  fragment?: string
}

export interface CompileOptions {
  /** Converters for this table only, in addition to the registered ones. */
  converters?: Record<string, Converter<any>>
}

interface CompiledEndpoint extends Endpoint {
  view: RouteView
  route: string
  name?: string
  defaults?: Record<string, unknown>
  namespaces: readonly string[]
  appNames: readonly string[]
  namespace?: string
  appName?: string
  viewName?: string
}

/** A namespace level: its names, its child instance namespaces and the instances of each app. */
class NamespaceNode {
  readonly names = new Map<string, ReverseCandidate[]>()
  readonly children = new Map<string, NamespaceNode>()
  readonly apps = new Map<string, string[]>()
  constructor(readonly path: string) {}
}

export class Resolver implements ResolverContract {
  readonly #trie = new SegmentTrie<CompiledEndpoint>()
  readonly #root = new NamespaceNode('')
  /**
   * Paths ('/' + the route) that only routes without parameters can match, and those
   * routes in table order: one Map lookup answers them, the trie search is for the rest.
   */
  readonly #static = new Map<string, CompiledEndpoint[]>()
  /** The last path resolve() looked up in #static, and what it found there. */
  #lastPath: string | undefined = undefined
  #lastFixed: CompiledEndpoint[] | undefined = undefined
  // Not frozen: slicing a frozen array takes V8's slow path (17µs for 500 entries).
  readonly #tried: string[]
  /** Problems worth a warning (Django's url checks): duplicate namespaces. */
  readonly warnings: readonly string[]
  /** The number of routes compiled. */
  readonly size: number

  constructor(patterns: readonly UrlEntry[], options: CompileOptions = {}) {
    if (!Array.isArray(patterns)) throw new ConfigError('urls', 'compileUrls() takes the list of url patterns')
    const converters = snapshotConverters(options.converters)
    const tried: string[] = []
    const warnings: string[] = []
    let index = 0
    const staticKeys = new Set<string>()
    const walk = (entries: readonly UrlEntry[], prefix: RouteToken[], display: string, routePrefix: string,
      ns: NamespaceNode, namespaces: string[], appNames: string[]): void => {
      Object.freeze(entries)
      for (const e of entries) {
        if (e?.kind === 'include') {
          const tokens = joinTokens(prefix, parseRoute(e.route))
          let child = ns
          let nss = namespaces
          let apps = appNames
          if (e.namespace !== undefined) {
            checkName('namespace', e.namespace, e.route)
            const existing = ns.children.get(e.namespace)
            // Django keeps the first include of a namespace and warns (urls.W005).
            child = new NamespaceNode(ns.path ? `${ns.path}:${e.namespace}` : e.namespace)
            if (existing) warnings.push(`URL namespace '${child.path}' isn't unique; reverse() uses the first one`)
            else {
              ns.children.set(e.namespace, child)
              const list = ns.apps.get(e.appName!) ?? []
              list.push(e.namespace)
              ns.apps.set(e.appName!, list)
            }
            nss = [...namespaces, e.namespace]
            apps = [...appNames, e.appName!]
          }
          walk(e.patterns, tokens, display + e.route + ' ', routePrefix + e.route, child, nss, apps)
        } else if (e?.kind === 'pattern') {
          const route = routePrefix + e.route
          const tokens = joinTokens(prefix, parseRoute(e.route))
          if (e.name !== undefined) checkName('name', e.name, route)
          const namespace = namespaces.length ? namespaces.join(':') : undefined
          // Every field present (undefined when unset): one shape for all endpoints, so the
          // per-request reads in toMatch() are plain field loads.
          const ep: CompiledEndpoint = {
            index: index++,
            methods: e.methods ? new Set(e.methods) : null,
            view: e.view,
            route,
            namespaces: Object.freeze(namespaces),
            appNames: Object.freeze(appNames),
            name: e.name,
            viewName: e.name === undefined ? undefined : namespace ? `${namespace}:${e.name}` : e.name,
            defaults: e.defaults || undefined,
            namespace,
            appName: namespace === undefined ? undefined : appNames.join(':'),
          }
          const shown = `${display}${e.route}${e.name !== undefined ? ` [name='${e.name}']` : ''}${e.methods ? ` [${e.methods.join(', ')}]` : ''}`
          this.#trie.insert(tokens, ep, converters, route)
          if (tokens.every((t) => t.kind === 'literal')) staticKeys.add(tokens.map((t) => (t as { text: string }).text).join(''))
          const spanning = tokens.filter((t) => t.kind === 'param' && converters.get(t.converter) && spansSegments(converters.get(t.converter)!))
          if (spanning.length > 1) {
            warnings.push(`route '${route}' has ${spanning.length} converters that span '/'; matching a long path that fails is quadratic (consider one <path:> per route)`)
          }
          tried.push(shown.trimStart())
          if (e.name !== undefined) {
            const list = ns.names.get(e.name) ?? []
            list.unshift(reverseCandidate(tokens, converters, route, e.defaults)) // last defined first
            ns.names.set(e.name, list)
          }
        } else {
          throw new ConfigError('urls', `not a url pattern: ${String(e)} (use path() or include())`)
        }
      }
    }
    walk(patterns, [], '', '', this.#root, [], [])
    for (const key of staticKeys) {
      const eps = this.#trie.staticOnly(key)
      if (eps !== null) this.#static.set('/' + key, eps)
    }
    this.#tried = tried
    this.warnings = Object.freeze(warnings)
    this.size = index
  }

  /**
   * Matches a request path (percent-decoded, leading '/') and method.
   *
   * ```ts
   * const r = resolver.resolve('/shop/products/lamp/', 'GET')
   * if (r.kind === 'match') return r.view(req, r.params)
   * ```
   */
  resolve(path: string, method: string): ResolveResult {
    // Most requests repeat the previous path: comparing strings is cheaper than hashing a fresh
    // one for the Map (the table never changes, so the remembered lookup stays right).
    let fixed: CompiledEndpoint[] | undefined
    if (path === this.#lastPath) {
      fixed = this.#lastFixed
    } else {
      fixed = this.#static.get(path.charCodeAt(0) === 47 /* '/' */ ? path : '/' + path)
      this.#lastPath = path
      this.#lastFixed = fixed
    }
    if (fixed !== undefined) {
      for (let i = 0; i < fixed.length; i++) {
        const ep = fixed[i]!
        if (ep.methods === null || ep.methods.has(method)) return toMatch(ep, NO_VALUES)
      }
    }
    return this.#resolveInTrie(path, method)
  }

  // The trie search, apart: resolve() stays short, so V8 optimizes it after fewer requests.
  #resolveInTrie(path: string, method: string): ResolveResult {
    const p = path.charCodeAt(0) === 47 /* '/' */ ? path.slice(1) : path
    const found = this.#trie.match(p, method)
    if (found !== null) return toMatch(found.endpoint, found.values)
    const any = this.#trie.matchAll(p)
    if (any.length === 0) return { kind: 'notFound', tried: this.#tried.slice() }
    const allowed: string[] = []
    for (const ep of any) for (const m of ep.methods ?? []) if (!allowed.includes(m)) allowed.push(m)
    return { kind: 'methodNotAllowed', allowed }
  }

  /** Every compiled route as shown on the debug 404 page, in table order. */
  get patterns(): string[] {
    return this.#tried.slice()
  }

  /**
   * Builds the URL of a named route: `reverse('shop:product', { slug: 'lamp' }, { page: 2 })`
   * → `'/shop/products/lamp/?page=2'`. Throws NoReverseMatch naming the name and the params.
   */
  reverse(viewName: string, params: Record<string, unknown> = {}, query?: QueryInput, options: ReverseOptions = {}): string {
    // A compiled table never changes, and a URL without parameters involves no converter: the
    // same answer every time (a page asks for its nav links on every render). Failures aren't kept.
    const plain = query === undefined && options.fragment === undefined && typeof viewName === 'string' && isEmpty(params)
    if (!plain) return this.#reverse(viewName, params, query, options)
    const key = options.currentApp ? `${options.currentApp}\0${viewName}` : viewName
    let out = this.#plainUrls.get(key)
    if (out === undefined) {
      out = this.#reverse(viewName, params, undefined, options)
      if (this.#plainUrls.size >= 1000) this.#plainUrls.clear()
      this.#plainUrls.set(key, out)
    }
    return out
  }

  #plainUrls = new Map<string, string>()

  #reverse(viewName: string, params: Record<string, unknown>, query: QueryInput | undefined, options: ReverseOptions): string {
    const parts = String(viewName).split(':')
    const name = parts.pop()!
    const current = options.currentApp ? options.currentApp.split(':') : []
    let ns = this.#root
    const resolvedPath: string[] = []
    for (const part of parts) {
      const cur = current.shift()
      let instance = part
      const instances = ns.apps.get(part)
      if (instances) {
        if (cur !== undefined && instances.includes(cur)) instance = cur
        else if (!instances.includes(part)) instance = instances[instances.length - 1]! // last deployed
      }
      const next = ns.children.get(instance)
      if (!next) {
        const inside = resolvedPath.length ? ` inside '${resolvedPath.join(':')}'` : ''
        throw new NoReverseMatch(viewName, params, `'${part}' is not a registered namespace${inside}`)
      }
      resolvedPath.push(part)
      ns = next
    }
    const candidates = ns.names.get(name)
    if (!candidates) {
      throw new NoReverseMatch(viewName, params, `Reverse for '${viewName}' not found. '${name}' is not a valid pattern name.`)
    }
    for (const c of candidates) {
      const url = tryReverse(c, params)
      if (url === null) continue
      const q = encodeQuery(query)
      let out = q ? `${url}?${q}` : url
      if (options.fragment) out += '#' + encodeURIComponent(options.fragment)
      return out
    }
    const given = Object.keys(params).length ? ` with params ${describeParams(params)}` : ' with no params'
    const tried = candidates.map((c) => c.route)
    throw new NoReverseMatch(viewName, params,
      `Reverse for '${viewName}'${given} not found. ${tried.length} pattern(s) tried: ${JSON.stringify(tried)}`)
  }
}

const NO_VALUES: unknown[] = []

function toMatch(ep: CompiledEndpoint, values: unknown[]): ResolverMatch {
  const params: Record<string, unknown> = ep.defaults ? { ...ep.defaults } : {}
  for (let i = 0; i < values.length; i += 2) params[values[i] as string] = values[i + 1]
  const m: ResolverMatch = {
    kind: 'match', view: ep.view, params, route: ep.route, namespaces: ep.namespaces, appNames: ep.appNames,
  }
  if (ep.name !== undefined) { m.name = ep.name; m.viewName = ep.viewName! }
  if (ep.namespace !== undefined) { m.namespace = ep.namespace; m.appName = ep.appName! }
  return m
}

function checkName(what: string, value: string, route: string): void {
  if (typeof value !== 'string' || value === '' || value.includes(':')) {
    throw new ConfigError(`urls[${JSON.stringify(route)}].${what}`, `${JSON.stringify(value)} must be a non-empty string without ':'`)
  }
}

/**
 * Compiles the URL table once, at startup. Later changes to the table are refused (the lists
 * are frozen), and converters registered afterwards are refused too.
 *
 * ```ts
 * const urls = compileUrls([path('', home, { name: 'home' }), path('shop/', include(shop, { namespace: 'shop' }))])
 * urls.resolve('/shop/', 'GET'); urls.reverse('shop:index')
 * ```
 */
export function compileUrls(patterns: readonly UrlEntry[], options?: CompileOptions): Resolver {
  return new Resolver(patterns, options)
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false
  return true
}
