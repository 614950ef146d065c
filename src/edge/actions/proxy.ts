// The `proxy` action: glue between route config and the proxy room (src/edge/proxy and
// src/edge/upstream). Pools are declared once under `edge.upstreams` and owned by the engine,
// which keeps them across reloads (`pools.reload` keeps unchanged upstreams' health state and
// drains removed ones); routes name a pool: `{ proxy: { pool: 'app', preserveHost, forwardedFor,
// cache, tunnelIdleTimeout } }`. One response cache (`edge.cache`, nginx proxy_cache) is shared by
// the routes that set `cache: true`, and kept across reloads while its section is unchanged.
import { ConfigError } from '../../errors.ts'
import { createProxyAction } from '../proxy/index.ts'
import { createUpstreamPools, resolveUpstreamsSettings, type UpstreamPools } from '../upstream/index.ts'
import { createResponseCache, resolveCacheSettings, type ResponseCache } from '../cache/index.ts'
import type { RouteSettings } from '../config/validate.ts'
import type { ActionFactory } from '../generation.ts'

const PROXY_KEYS = ['pool', 'preserveHost', 'forwardedFor', 'cache', 'tunnelIdleTimeout']

/** Checks `edge.upstreams`, `edge.cache` and every proxy route's options; throws a ConfigError naming the key. */
export function validateProxyRoutes(upstreams: unknown, cache: unknown, routes: RouteSettings[]): void {
  const pools = resolveUpstreamsSettings(upstreams, 'edge.upstreams')
  if (cache !== undefined) {
    if (typeof cache !== 'object' || cache === null || Array.isArray(cache)) throw new ConfigError('edge.cache', 'expected an object of cache settings (or leave it out)')
    resolveCacheSettings(cache as Record<string, unknown>, 'edge.cache')
  }
  for (const r of routes) {
    if (r.action.kind !== 'proxy') continue
    const key = `${r.key}.action.proxy`
    const spec = (r.action as { proxy: Record<string, unknown> }).proxy
    for (const k of Object.keys(spec)) if (!PROXY_KEYS.includes(k)) throw new ConfigError(`${key}.${k}`, `unknown setting (known: ${PROXY_KEYS.join(', ')})`)
    if (typeof spec.pool !== 'string') throw new ConfigError(`${key}.pool`, 'expected the name of a pool declared under edge.upstreams')
    if (!pools.has(spec.pool)) throw new ConfigError(`${key}.pool`, `no upstream pool named ${JSON.stringify(spec.pool)} (defined: ${[...pools.keys()].join(', ') || 'none'})`)
    if (spec.preserveHost !== undefined && typeof spec.preserveHost !== 'boolean') throw new ConfigError(`${key}.preserveHost`, 'expected true or false')
    if (spec.forwardedFor !== undefined && spec.forwardedFor !== 'append' && spec.forwardedFor !== 'replace') throw new ConfigError(`${key}.forwardedFor`, 'expected "append" or "replace"')
    if (spec.cache !== undefined && typeof spec.cache !== 'boolean') throw new ConfigError(`${key}.cache`, 'expected true or false')
    if (spec.cache === true && cache === undefined) throw new ConfigError(`${key}.cache`, 'add an `edge.cache` section (e.g. { maxSize: "64mb" }) to cache responses')
    if (spec.tunnelIdleTimeout !== undefined && !(typeof spec.tunnelIdleTimeout === 'number' && spec.tunnelIdleTimeout >= 0)) throw new ConfigError(`${key}.tunnelIdleTimeout`, 'expected milliseconds (0 = never)')
  }
}

/** The engine's pools and response cache: created on first use, reloaded in place, closed with the engine. */
export class ProxyPools {
  #pools: UpstreamPools | null = null
  #cache: ResponseCache | null = null
  #cacheJson = ''

  /** Applies `edge.upstreams` and `edge.cache` (already validated) before a generation is built. */
  async apply(upstreams: unknown, cache: unknown): Promise<void> {
    if (!this.#pools) this.#pools = createUpstreamPools(upstreams ?? {})
    else await this.#pools.reload(upstreams ?? {})
    const json = JSON.stringify(cache ?? null)
    if (json !== this.#cacheJson) {
      this.#cache = cache === undefined ? null : createResponseCache(cache as Record<string, unknown>)
      this.#cacheJson = json
    }
  }

  /** The shared response cache (for purge and stats), when `edge.cache` is configured. */
  get cache(): ResponseCache | null {
    return this.#cache
  }

  factory(): ActionFactory {
    return (spec, b) => {
      const pools = this.#pools
      if (!pools) throw new Error('edge: upstream pools used before apply()')
      const key = `${b.route.key}.action.proxy`
      return createProxyAction(pools.require(String(spec.pool), `${key}.pool`), {
        preserveHost: spec.preserveHost as boolean | undefined,
        forwardedFor: spec.forwardedFor as 'append' | 'replace' | undefined,
        tunnelIdleTimeout: spec.tunnelIdleTimeout as number | undefined,
        cache: spec.cache === true && this.#cache ? this.#cache : undefined,
        responseFilters: { compress: b.compress },
      })
    }
  }

  async close(): Promise<void> {
    await this.#pools?.close(true)
    this.#pools = null
  }
}
