// The `edge.upstreams` config section: named pools, each with targets, a policy, health checks,
// timeouts, retries, keep-alive, slow start, sticky sessions and fail-open. Validated with the
// shared settings tables; errors name the key (`edge.upstreams.app.targets[1].weight`).
import { ConfigError } from '../../errors.ts'
import { resolveSettings, type SettingsTable } from '../../settings-table.ts'
import { POLICY_NAMES, type PolicyName } from './policy.ts'
import { compileHashKey } from './policies/hash-key.ts'
import { parseAddress, type UpstreamClient } from './transport.ts'

const positive = (n: number) => (n > 0 ? undefined : 'must be greater than 0')
const nonNegative = (n: number) => (n >= 0 ? undefined : 'must be 0 or more')
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export const poolTable = {
  targets: { type: 'any', default: [], description: 'Upstream addresses: `"http://host:port"`, `"unix:/path.sock"` or `{ address, weight, maxFails, failTimeout }`.' },
  policy: { type: 'string', default: 'round-robin', description: `Balancing policy: ${POLICY_NAMES.join(', ')}.`, validate: (v: string) => (POLICY_NAMES.includes(v as PolicyName) ? undefined : `must be one of ${POLICY_NAMES.join(', ')}`) },
  hashKey: { type: 'string', default: '$request_uri', description: 'Key for consistent-hash, in nginx variables (`$request_uri`, `$http_x_user`, `$cookie_id`, `$remote_addr`, …).', validate: (v: string) => { try { compileHashKey(v); return undefined } catch (e) { return (e as Error).message } } },
  maxFails: { type: 'int', default: 1, description: 'Passive health: failures within `failTimeout` that mark a target down (0 = never).', validate: nonNegative },
  failTimeout: { type: 'duration', default: 10_000, description: 'Passive health: the failure window and how long a failed target stays down.', validate: positive },
  slowStart: { type: 'duration', default: 0, description: 'A recovered target\'s weight ramps up over this time (0 = off).', validate: nonNegative },
  connectTimeout: { type: 'duration', default: 5_000, description: 'Connect timeout to a target (then retry another, or 504).', validate: positive },
  readTimeout: { type: 'duration', default: 60_000, description: 'Max wait for response headers, and between two body chunks (then 504).', validate: positive },
  tries: { type: 'int', default: 0, description: 'Most targets tried per request: after a connect failure any method, after a failure once sent only idempotent ones without a consumed body (0 = every target once).', validate: nonNegative },
  keepalive: { type: 'any', default: {}, description: 'Connection pool per target: `{ connections: 64, idleTimeout: "60s" }`.' },
  failOpen: { type: 'boolean', default: false, description: 'When every target is unhealthy, route to all of them (ALB fail-open) instead of 503.' },
  sticky: { type: 'any', default: false, description: 'Sticky sessions by cookie: `true` or `{ cookie, secret, maxAge, secure }`.' },
  health: { type: 'any', default: false, description: 'Active health checks: `true` or `{ interval, path, expectStatus, rise, fall, timeout, host }`.' },
  tlsVerify: { type: 'boolean', default: true, description: 'Verify certificates of https targets.' },
  client: { type: 'string', default: 'causeway', description: 'HTTP client for http and unix targets: `causeway` (the edge\'s own keep-alive HTTP/1.1 client) or `undici`; https targets always use undici.', validate: (v: string) => (v === 'causeway' || v === 'undici' ? undefined : 'must be causeway or undici') },
} satisfies SettingsTable

export const targetTable = {
  address: { type: 'string', default: '', description: 'http://host:port, https://host:port or unix:/path.sock', validate: (v: string) => { if (!v) return 'is required'; try { parseAddress(v); return undefined } catch (e) { return (e as Error).message } } },
  weight: { type: 'number', default: 1, description: 'Relative share of requests.', validate: (n: number) => (n > 0 && n <= 1000 ? undefined : 'must be greater than 0 and at most 1000') },
  maxFails: { type: 'int', default: undefined as number | undefined, description: 'Overrides the pool\'s maxFails.', validate: (n?: number) => (n === undefined ? undefined : nonNegative(n)) },
  failTimeout: { type: 'duration', default: undefined as number | undefined, description: 'Overrides the pool\'s failTimeout.', validate: (n?: number) => (n === undefined || n > 0 ? undefined : 'must be greater than 0') },
} satisfies SettingsTable

export const keepaliveTable = {
  connections: { type: 'int', default: 64, description: 'Most connections per target.', validate: positive },
  idleTimeout: { type: 'duration', default: 60_000, description: 'Idle keep-alive connections close after this.', validate: positive },
} satisfies SettingsTable

export const healthTable = {
  interval: { type: 'duration', default: 5_000, description: 'Time between two checks of a target.', validate: (n: number) => (n >= 50 ? undefined : 'must be at least 50ms') },
  path: { type: 'string', default: '/', description: 'Path requested with GET.', validate: (v: string) => (v.startsWith('/') ? undefined : 'must start with /') },
  expectStatus: { type: 'list', default: ['200-399'], description: 'Healthy statuses: numbers, ranges (`200-299`) or classes (`2xx`).', validate: (v: unknown[]) => { try { parseStatusList(v); return undefined } catch (e) { return (e as Error).message } } },
  rise: { type: 'int', default: 2, description: 'Consecutive passes that mark a target healthy.', validate: positive },
  fall: { type: 'int', default: 3, description: 'Consecutive failures that mark a target unhealthy.', validate: positive },
  timeout: { type: 'duration', default: 2_000, description: 'A check slower than this fails.', validate: positive },
  host: { type: 'string', default: '', description: 'Host header of checks (default: the target\'s host).' },
} satisfies SettingsTable

export const stickyTable = {
  cookie: { type: 'string', default: 'cw_sticky', description: 'Cookie name.', validate: (v: string) => (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v) ? undefined : 'must be a valid cookie name') },
  secret: { type: 'string', default: '', env: 'SECRET_KEY', description: 'Signs the cookie (HMAC); empty = a random per-process key (cookies stop matching after a restart).' },
  maxAge: { type: 'duration', default: 0, description: 'Cookie lifetime (0 = a session cookie).', validate: nonNegative },
  secure: { type: 'string', default: 'auto', description: '`auto` (Secure on https), `always` or `never`.', validate: (v: string) => (['auto', 'always', 'never'].includes(v) ? undefined : 'must be auto, always or never') },
} satisfies SettingsTable

export interface TargetSettings { address: string; weight: number; maxFails?: number; failTimeout?: number }
export interface StatusRange { from: number; to: number }
export interface HealthSettings { interval: number; path: string; expectStatus: StatusRange[]; rise: number; fall: number; timeout: number; host: string }
export interface StickySettings { enabled: boolean; cookie: string; secret: string; maxAge: number; secure: 'auto' | 'always' | 'never' }

export interface PoolSettings {
  targets: TargetSettings[]
  policy: PolicyName
  hashKey: string
  maxFails: number
  failTimeout: number
  slowStart: number
  connectTimeout: number
  readTimeout: number
  tries: number
  keepalive: { connections: number; idleTimeout: number }
  failOpen: boolean
  sticky: StickySettings
  /** undefined = no active checks. */
  health: HealthSettings | undefined
  tlsVerify: boolean
  client: UpstreamClient
}

/** `[200, '2xx', '300-304']` → ranges; throws on anything else. */
export function parseStatusList(items: readonly unknown[]): StatusRange[] {
  return items.map((item) => {
    const s = String(item).trim().toLowerCase()
    let m: RegExpExecArray | null
    if ((m = /^([1-5])xx$/.exec(s))) return { from: Number(m[1]) * 100, to: Number(m[1]) * 100 + 99 }
    if ((m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(s))) {
      const from = Number(m[1])
      const to = m[2] ? Number(m[2]) : from
      if (from >= 100 && to <= 599 && from <= to) return { from, to }
    }
    throw new Error(`not a status, range or class: ${JSON.stringify(item)}`)
  })
}

function subsection(key: string, raw: unknown, allowTrue: boolean): Record<string, unknown> | undefined {
  if (raw === false || raw === undefined || raw === null) return undefined
  if (raw === true && allowTrue) return {}
  if (isObject(raw)) return raw
  throw new ConfigError(key, `expected ${allowTrue ? 'true, false or ' : ''}an object, got ${JSON.stringify(raw)}`)
}

/** Validates one pool; `section` is its key path, e.g. `edge.upstreams.app`. */
export function resolvePoolSettings(section: string, given: unknown, env: NodeJS.ProcessEnv = process.env): PoolSettings {
  if (!isObject(given)) throw new ConfigError(section, `expected an object with targets, got ${JSON.stringify(given)}`)
  const s = resolveSettings(section, poolTable, given, env)
  if (!Array.isArray(s.targets) || s.targets.length === 0) throw new ConfigError(`${section}.targets`, 'expected a non-empty list of addresses')
  const seen = new Set<string>()
  const targets = (s.targets as unknown[]).map((t, i): TargetSettings => {
    const key = `${section}.targets[${i}]`
    const raw = typeof t === 'string' ? { address: t } : t
    if (!isObject(raw)) throw new ConfigError(key, `expected an address string or { address, weight }, got ${JSON.stringify(t)}`)
    const r = resolveSettings(key, targetTable, raw, {})
    if (seen.has(r.address)) throw new ConfigError(`${key}.address`, `duplicate target ${r.address}`)
    seen.add(r.address)
    return r
  })
  const keepalive = resolveSettings(`${section}.keepalive`, keepaliveTable, subsection(`${section}.keepalive`, s.keepalive, false) ?? {}, {})
  const healthRaw = subsection(`${section}.health`, s.health, true)
  const health = healthRaw && resolveSettings(`${section}.health`, healthTable, healthRaw, {})
  const stickyRaw = subsection(`${section}.sticky`, s.sticky, true)
  const sticky = resolveSettings(`${section}.sticky`, stickyTable, stickyRaw ?? {}, env)
  return {
    ...s,
    policy: s.policy as PolicyName,
    client: s.client as UpstreamClient,
    targets,
    keepalive,
    health: health && { ...health, expectStatus: parseStatusList(health.expectStatus) },
    sticky: { ...sticky, enabled: stickyRaw !== undefined, secure: sticky.secure as StickySettings['secure'] },
  }
}

/** Validates the whole `edge.upstreams` section: `{ [poolName]: poolConfig }`. */
export function resolveUpstreamsSettings(given: unknown, section = 'edge.upstreams', env: NodeJS.ProcessEnv = process.env): Map<string, PoolSettings> {
  if (given === undefined) return new Map()
  if (!isObject(given)) throw new ConfigError(section, `expected an object of named pools, got ${JSON.stringify(given)}`)
  const out = new Map<string, PoolSettings>()
  for (const [name, pool] of Object.entries(given)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ConfigError(`${section}.${name}`, 'a pool name may use letters, digits, _ . - only')
    out.set(name, resolvePoolSettings(`${section}.${name}`, pool, env))
  }
  return out
}
