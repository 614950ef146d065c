// Validates the `edge` section once, at startup (and on reload): every error is a ConfigError
// naming the key, e.g. `edge.routes[2].action.static.root: no such directory`.
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { ConfigError } from '../../errors.ts'
import { resolveSettings, type SettingsOf } from '../../settings-table.ts'
import { CidrSet } from '../../net/ip.ts'
import {
  accessLogTable, compressionTable, edgeTable, limitsTable, listenerTable, openFileCacheTable, resolveWorkers, staticTable,
} from './tables.ts'

export type StaticSettings = Omit<SettingsOf<typeof staticTable>, 'immutable'> & { immutable: RegExp | null; key: string }

export interface TlsCertSettings { cert: string; key: string; names?: string[] }
export interface TlsSettings { certs: TlsCertSettings[]; selfSigned: string[] | null }

export interface ListenerSettings {
  host: string
  port: number
  tls?: TlsSettings
  http2: boolean
  redirectToHttps?: { status: number; port?: number }
  /** Read a PROXY protocol header from `edge.trustedProxies` peers before HTTP/TLS. */
  proxyProtocol: boolean
  key: string
}

export interface HeaderMatch { name: string; value: string | RegExp | true }

export interface MatchSettings {
  hosts?: string[]
  path?: string
  pathPrefix?: string
  pattern?: RegExp
  methods?: string[]
  headers?: HeaderMatch[]
}

export type ActionSettings =
  | { kind: 'static'; static: StaticSettings }
  | { kind: 'proxy'; proxy: Record<string, unknown> }
  | { kind: 'redirect'; redirect: { status: number; to: string } }
  | { kind: 'respond'; respond: { status: number; body: string; headers: Record<string, string> } }
  | { kind: string; [k: string]: unknown }

export interface RouteSettings {
  name: string
  index: number
  match: MatchSettings
  action: ActionSettings
  maxBodySize?: number
  key: string
}

export interface EdgeSettings {
  root: string
  listen: ListenerSettings[]
  routes: RouteSettings[]
  trustedProxies: CidrSet
  limits: SettingsOf<typeof limitsTable>
  compression: SettingsOf<typeof compressionTable>
  accessLog: SettingsOf<typeof accessLogTable>
  openFileCache: SettingsOf<typeof openFileCacheTable>
  tlsDir: string
  production: boolean
  workers: number
  /** Node flags for the edge's serving processes (`edge.nodeArgs`). */
  nodeArgs: string[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function obj(key: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {}
  if (!isObject(v)) throw new ConfigError(key, `expected an object, got ${JSON.stringify(v)}`)
  return v
}

function list(key: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(key, `expected a list, got ${JSON.stringify(v)}`)
  return v
}

function strings(key: string, v: unknown): string[] {
  const l = typeof v === 'string' ? [v] : list(key, v)
  l.forEach((s, i) => { if (typeof s !== 'string' || s === '') throw new ConfigError(`${key}[${i}]`, 'expected a non-empty string') })
  return l as string[]
}

function regex(key: string, v: unknown): RegExp {
  if (v instanceof RegExp) return v
  if (typeof v !== 'string') throw new ConfigError(key, `expected a RegExp or a regular-expression string, got ${JSON.stringify(v)}`)
  try {
    return new RegExp(v)
  } catch (e) {
    throw new ConfigError(key, `bad regular expression: ${(e as Error).message}`)
  }
}

/** A glob (`*` within a segment, `**` across segments, `?` one character) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') { out += '.*'; i++ }
    else if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}

function directory(key: string, root: string, v: string): string {
  const dir = isAbsolute(v) ? v : resolve(root, v)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(key, `no such directory: ${dir}`)
  return dir
}

function file(key: string, root: string, v: unknown): string {
  if (typeof v !== 'string') throw new ConfigError(key, `expected a file path, got ${JSON.stringify(v)}`)
  const f = isAbsolute(v) ? v : resolve(root, v)
  if (!existsSync(f)) throw new ConfigError(key, `no such file: ${f}`)
  return f
}

function tlsSettings(key: string, root: string, v: unknown): TlsSettings {
  if (v === true) return { certs: [], selfSigned: ['localhost'] }
  const t = obj(key, v)
  for (const k of Object.keys(t)) if (k !== 'certs' && k !== 'selfSigned') throw new ConfigError(`${key}.${k}`, 'unknown setting (known: certs, selfSigned)')
  const certs = t.certs === undefined ? [] : list(`${key}.certs`, t.certs).map((c, i) => {
    const k = `${key}.certs[${i}]`
    const o = obj(k, c)
    return {
      cert: file(`${k}.cert`, root, o.cert),
      key: file(`${k}.key`, root, o.key),
      names: o.names === undefined ? undefined : strings(`${k}.names`, o.names).map((n) => n.toLowerCase()),
    }
  })
  let selfSigned: string[] | null = null
  if (t.selfSigned === true) selfSigned = ['localhost']
  else if (t.selfSigned !== undefined && t.selfSigned !== false) selfSigned = strings(`${key}.selfSigned`, obj(`${key}.selfSigned`, t.selfSigned).names ?? ['localhost'])
  if (certs.length === 0 && !selfSigned) throw new ConfigError(key, 'give `certs: [{ cert, key }]` or `selfSigned: true`')
  return { certs, selfSigned }
}

function listener(key: string, root: string, v: unknown): ListenerSettings {
  const s = resolveSettings(key, listenerTable, obj(key, v), {})
  const out: ListenerSettings = { host: s.host, port: s.port, http2: s.http2, proxyProtocol: s.proxyProtocol, key: '' }
  if (s.tls !== undefined && s.tls !== false) out.tls = tlsSettings(`${key}.tls`, root, s.tls)
  if (s.redirectToHttps) {
    const r = s.redirectToHttps === true ? {} : obj(`${key}.redirectToHttps`, s.redirectToHttps)
    const status = r.status ?? 301
    if (![301, 302, 307, 308].includes(status as number)) throw new ConfigError(`${key}.redirectToHttps.status`, `must be 301, 302, 307 or 308 (got ${JSON.stringify(status)})`)
    if (r.port !== undefined && !(Number.isInteger(r.port) && (r.port as number) > 0 && (r.port as number) < 65536)) throw new ConfigError(`${key}.redirectToHttps.port`, `must be a port number (got ${JSON.stringify(r.port)})`)
    out.redirectToHttps = { status: status as number, port: r.port as number | undefined }
  }
  // Listeners with the same key are kept open across a reload.
  out.key = JSON.stringify([out.host, out.port, out.tls, out.http2, out.redirectToHttps, out.proxyProtocol])
  return out
}

const MATCH_KEYS = ['host', 'path', 'pathPrefix', 'pattern', 'glob', 'method', 'methods', 'header', 'headers']

function match(key: string, v: unknown): MatchSettings {
  const m = obj(key, v)
  for (const k of Object.keys(m)) if (!MATCH_KEYS.includes(k)) throw new ConfigError(`${key}.${k}`, `unknown matcher (known: ${MATCH_KEYS.join(', ')})`)
  const out: MatchSettings = {}
  if (m.host !== undefined) out.hosts = strings(`${key}.host`, m.host).map((h) => h.toLowerCase())
  if (m.path !== undefined) {
    if (typeof m.path !== 'string' || !m.path.startsWith('/')) throw new ConfigError(`${key}.path`, 'expected a path starting with "/"')
    out.path = m.path
  }
  if (m.pathPrefix !== undefined) {
    if (typeof m.pathPrefix !== 'string' || !m.pathPrefix.startsWith('/')) throw new ConfigError(`${key}.pathPrefix`, 'expected a path prefix starting with "/"')
    out.pathPrefix = m.pathPrefix
  }
  if (m.pattern !== undefined && m.glob !== undefined) throw new ConfigError(`${key}.glob`, 'give either `pattern` or `glob`, not both')
  if (m.pattern !== undefined) out.pattern = regex(`${key}.pattern`, m.pattern)
  if (m.glob !== undefined) {
    if (typeof m.glob !== 'string') throw new ConfigError(`${key}.glob`, 'expected a glob string like "/assets/**/*.js"')
    out.pattern = globToRegExp(m.glob)
  }
  const methods = m.methods ?? m.method
  if (methods !== undefined) out.methods = strings(`${key}.methods`, methods).map((x) => x.toUpperCase())
  const headers = m.headers ?? m.header
  if (headers !== undefined) {
    const h = obj(`${key}.headers`, headers)
    out.headers = Object.entries(h).map(([name, value]) => {
      if (value === true || typeof value === 'string' || value instanceof RegExp) return { name: name.toLowerCase(), value }
      throw new ConfigError(`${key}.headers.${name}`, 'expected a string (exact), a RegExp, or true (present)')
    })
  }
  return out
}

function staticAction(key: string, root: string, v: unknown, m: MatchSettings): StaticSettings {
  const s = resolveSettings(key, staticTable, obj(key, v), {})
  if ((s.root === undefined) === (s.alias === undefined)) throw new ConfigError(`${key}.root`, 'give exactly one of `root` or `alias`')
  if (s.alias !== undefined && !m.pathPrefix) throw new ConfigError(`${key}.alias`, '`alias` replaces the route\'s `match.pathPrefix`; add one (or use `root`)')
  if (s.root !== undefined) s.root = directory(`${key}.root`, root, s.root)
  if (s.alias !== undefined) s.alias = directory(`${key}.alias`, root, s.alias)
  const immutable = s.immutable === false || s.immutable === '' ? null : regex(`${key}.immutable`, s.immutable)
  s.tryFiles.forEach((t: string, i: number) => {
    if (!(t.startsWith('/') || t.startsWith('$uri') || /^=\d{3}$/.test(t))) throw new ConfigError(`${key}.tryFiles[${i}]`, 'expected "$uri", "$uri/", a path starting with "/" or "=404"')
  })
  return { ...s, immutable, key }
}

function action(key: string, root: string, v: unknown, m: MatchSettings, known: string[]): ActionSettings {
  const a = obj(key, v)
  const kinds = Object.keys(a)
  if (kinds.length !== 1 || !known.includes(kinds[0]!)) {
    throw new ConfigError(key, `expected exactly one of ${known.map((k) => `{ ${k}: … }`).join(', ')} (got ${JSON.stringify(kinds)})`)
  }
  const kind = kinds[0]!
  const k = `${key}.${kind}`
  switch (kind) {
    case 'static':
      return { kind, static: staticAction(k, root, a.static, m) }
    case 'redirect': {
      const r = obj(k, a.redirect)
      const status = r.status ?? 302
      if (![301, 302, 303, 307, 308].includes(status as number)) throw new ConfigError(`${k}.status`, `must be 301, 302, 303, 307 or 308 (got ${JSON.stringify(status)})`)
      if (typeof r.to !== 'string' || r.to === '') throw new ConfigError(`${k}.to`, 'expected a target like "https://$host$request_uri"')
      return { kind, redirect: { status: status as number, to: r.to } }
    }
    case 'respond': {
      const r = obj(k, a.respond)
      const status = r.status ?? 200
      if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) throw new ConfigError(`${k}.status`, `must be an HTTP status (got ${JSON.stringify(status)})`)
      if (r.body !== undefined && typeof r.body !== 'string') throw new ConfigError(`${k}.body`, 'expected a string')
      const headers = obj(`${k}.headers`, r.headers) as Record<string, string>
      for (const [n, hv] of Object.entries(headers)) if (typeof hv !== 'string') throw new ConfigError(`${k}.headers.${n}`, 'expected a string')
      return { kind, respond: { status: status as number, body: (r.body as string | undefined) ?? '', headers } }
    }
    default:
      return { kind, [kind]: obj(k, a[kind]) }
  }
}

/**
 * Checks and normalises the `edge` section. `root` is the project directory that relative paths
 * resolve against; `actionKinds` are the action names the engine can build.
 * @example validateEdgeConfig({ listen: [{ port: 0 }], routes: [{ action: { respond: { body: 'ok' } } }] }, process.cwd())
 */
export function validateEdgeConfig(section: unknown, root: string, actionKinds = ['static', 'proxy', 'redirect', 'respond']): EdgeSettings {
  const s = resolveSettings('edge', edgeTable, obj('edge', section))
  let trustedProxies: CidrSet
  try {
    trustedProxies = new CidrSet(s.trustedProxies)
  } catch (e) {
    throw new ConfigError('edge.trustedProxies', (e as Error).message)
  }
  const listen = list('edge.listen', s.listen).map((l, i) => listener(`edge.listen[${i}]`, root, l))
  if (listen.length === 0) throw new ConfigError('edge.listen', 'give at least one listener, e.g. [{ port: 8080 }]')
  listen.forEach((l, i) => {
    if (l.proxyProtocol && trustedProxies.size === 0) throw new ConfigError(`edge.listen[${i}].proxyProtocol`, 'only peers in edge.trustedProxies may send a PROXY header, and it is empty: list the proxies (e.g. ["10.0.0.0/8"])')
  })
  const names = new Set<string>()
  const routes = list('edge.routes', s.routes).map((r, i): RouteSettings => {
    const key = `edge.routes[${i}]`
    const o = obj(key, r)
    for (const k of Object.keys(o)) if (!['name', 'match', 'action', 'maxBodySize'].includes(k)) throw new ConfigError(`${key}.${k}`, 'unknown setting (known: name, match, action, maxBodySize)')
    const name = o.name === undefined ? `route${i}` : o.name
    if (typeof name !== 'string' || name === '') throw new ConfigError(`${key}.name`, 'expected a non-empty string')
    if (names.has(name)) throw new ConfigError(`${key}.name`, `duplicate route name ${JSON.stringify(name)}`)
    names.add(name)
    const m = match(`${key}.match`, o.match)
    if (o.action === undefined) throw new ConfigError(`${key}.action`, 'missing: give { static | proxy | redirect | respond: … }')
    const out: RouteSettings = { name, index: i, match: m, action: action(`${key}.action`, root, o.action, m, actionKinds), key }
    if (o.maxBodySize !== undefined) out.maxBodySize = resolveSettings(key, { maxBodySize: limitsTable.maxBodySize }, { maxBodySize: o.maxBodySize }, {}).maxBodySize
    return out
  })
  return {
    root,
    listen,
    routes,
    trustedProxies,
    limits: resolveSettings('edge.limits', limitsTable, obj('edge.limits', s.limits)),
    compression: resolveSettings('edge.compression', compressionTable, obj('edge.compression', s.compression)),
    accessLog: resolveSettings('edge.accessLog', accessLogTable, obj('edge.accessLog', s.accessLog)),
    openFileCache: resolveSettings('edge.openFileCache', openFileCacheTable, obj('edge.openFileCache', s.openFileCache)),
    tlsDir: isAbsolute(s.tlsDir) ? s.tlsDir : resolve(root, s.tlsDir),
    production: s.production,
    workers: resolveWorkers(s.workers),
    nodeArgs: [...(s.nodeArgs as string[])],
  }
}
