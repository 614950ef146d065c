// The edge's settings tables: one per flat sub-section, so every key has a type, a default and a
// description, and resolveSettings names the key (`edge.limits.maxBodySize`) when a value is bad.
import { availableParallelism } from 'node:os'
import type { SettingsTable } from '../../settings-table.ts'

const positive = (n: number) => (n > 0 ? undefined : 'must be greater than 0')
const nonNegative = (n: number) => (n >= 0 ? undefined : 'must be 0 or more')

/** `edge.workers`: "auto" or a whole number 1..256 (the environment gives it as a string). */
function workersProblem(v: unknown): string | undefined {
  if (v === 'auto') return undefined
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 256 ? undefined : 'must be "auto" or a whole number 1..256'
}

/** `edge.nodeArgs`: node command-line flags, each starting with `--`. */
function nodeArgsProblem(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'must be a list of node flags, e.g. ["--max-semi-space-size=32"]'
  const bad = v.find((a) => typeof a !== 'string' || !a.startsWith('--'))
  return bad === undefined ? undefined : `${JSON.stringify(bad)} is not a node flag (each starts with "--")`
}

/** The number of edge processes `edge.workers` asks for (already validated). */
export function resolveWorkers(v: unknown): number {
  return v === 'auto' ? availableParallelism() : Number(v)
}

/** Top-level scalar keys of the `edge` section (lists of listeners and routes are checked apart). */
export const edgeTable = {
  listen: { type: 'any', default: [{ port: 8080 }], description: 'listeners: `[{ host, port, tls, http2, redirectToHttps, proxyProtocol }]` (see below)' },
  routes: { type: 'any', default: [], description: 'route rules, evaluated in order; the first match acts (404 when none does)' },
  upstreams: { type: 'any', default: undefined as unknown, description: 'named upstream pools for `proxy` routes (see docs/edge.md, built by src/edge/upstream)' },
  cache: { type: 'any', default: undefined as unknown, description: 'the response cache (nginx proxy_cache) for proxy routes with `cache: true` (keys: docs/edge-proxy.md)' },
  trustedProxies: { type: 'list', default: [], description: 'peers (addresses or CIDR ranges) whose X-Forwarded-For and X-Request-Id are believed' },
  limits: { type: 'any', default: {}, description: 'size limits and timeouts (`edge.limits.*`)' },
  compression: { type: 'any', default: {}, description: 'on-the-fly gzip/Brotli (`edge.compression.*`)' },
  accessLog: { type: 'any', default: {}, description: 'access log (`edge.accessLog.*`)' },
  openFileCache: { type: 'any', default: {}, description: 'static file metadata/descriptor/memory cache (`edge.openFileCache.*`)' },
  tlsDir: { type: 'string', default: '.causeway/tls', description: 'where the generated self-signed certificate is cached (relative to the project)' },
  workers: {
    type: 'any', default: 'auto' as number | string, env: 'EDGE_WORKERS', validate: workersProblem,
    description: '`causeway edge` processes sharing the listeners (node:cluster), like nginx `worker_processes`: a number 1..256 or `"auto"`, one per core (os.availableParallelism()), as in the nginx config Debian and the official image ship; `"auto"` is 1 with an in-memory firewall store',
  },
  nodeArgs: {
    type: 'any', default: ['--max-semi-space-size=32'] as string[], validate: nodeArgsProblem,
    description: 'node flags the edge\'s serving processes start with (the workers `causeway edge` forks, the edge `causeway up` runs; a single `causeway edge` process that lacks them forks one worker that has them); the default gives V8\'s young generation room for a proxy\'s short-lived per-request objects: fewer, cheaper scavenges, about a quarter less CPU per proxied request (docs/benchmarks.md). `[]` = node\'s defaults',
  },
  journey: { type: 'any', default: undefined as unknown, description: 'the edge\'s part in the request journey: its spans, the collector, the OTLP endpoint and the dashboard (`edge.journey.*`, see docs/journey.md); needs the `journey` section enabled' },
  production: { type: 'boolean', default: true, env: 'CAUSEWAY_EDGE_PRODUCTION', description: 'hide error details from clients (500 pages never carry a stack)' },
} satisfies SettingsTable

export const limitsTable = {
  maxHeaderSize: { type: 'size', default: 16 * 1024, validate: positive, description: 'largest request head (HTTP/1.1: 431; HTTP/2: header list size)' },
  maxBodySize: { type: 'size', default: 10 * 1024 * 1024, validate: nonNegative, description: 'largest request body, counted while streaming (also chunked); 413 beyond it; 0 = no limit. Routes may override' },
  headersTimeout: { type: 'duration', default: 20_000, validate: positive, description: 'time allowed to receive the request head' },
  requestTimeout: { type: 'duration', default: 0, validate: nonNegative, description: 'time allowed to receive the whole request incl. body (0 = off; idleTimeout still applies)' },
  idleTimeout: { type: 'duration', default: 60_000, validate: nonNegative, description: 'socket inactivity (reading a body or writing a response) before the connection is dropped' },
  keepAliveTimeout: { type: 'duration', default: 15_000, validate: nonNegative, description: 'how long an idle keep-alive connection stays open between requests' },
  shutdownTimeout: { type: 'duration', default: 10_000, validate: nonNegative, description: 'graceful close/reload: how long in-flight requests may run before connections are cut' },
} satisfies SettingsTable

export const DEFAULT_COMPRESSIBLE = [
  'text/html', 'text/css', 'text/plain', 'text/xml', 'text/javascript', 'text/markdown', 'text/csv',
  'application/javascript', 'application/json', 'application/xml', 'application/manifest+json',
  'application/ld+json', 'image/svg+xml', 'application/wasm',
]

export const compressionTable = {
  enabled: { type: 'boolean', default: true, description: 'compress responses on the fly (static and proxied)' },
  types: { type: 'list', default: DEFAULT_COMPRESSIBLE, description: 'MIME types (without parameters) to compress' },
  minSize: { type: 'size', default: 1024, validate: nonNegative, description: 'skip responses whose Content-Length is below this' },
  encodings: {
    type: 'list', default: ['br', 'gzip'], description: 'codings offered, in server preference order at equal q',
    validate: (l: string[]) => l.every((e) => e === 'br' || e === 'gzip') ? undefined : 'only "br" and "gzip" are supported',
  },
  gzipLevel: { type: 'int', default: 1, validate: (n: number) => (n >= 1 && n <= 9 ? undefined : 'must be 1..9'), description: 'zlib level for on-the-fly gzip (1, as nginx gzip_comp_level: about half the CPU of 6 for a few % more bytes)' },
  brotliQuality: { type: 'int', default: 4, validate: (n: number) => (n >= 0 && n <= 11 ? undefined : 'must be 0..11'), description: 'Brotli quality for on-the-fly compression (static files in the memory cache are compressed once at 11)' },
} satisfies SettingsTable

export const accessLogTable = {
  format: {
    type: 'string', default: 'combined', description: '`combined` (nginx, plus request id and duration), `json` or `off`',
    validate: (s: string) => (['combined', 'json', 'off'].includes(s) ? undefined : 'must be "combined", "json" or "off"'),
  },
  path: { type: 'string', default: '-', description: 'file to append to, or `-` for stdout (reopened on SIGHUP, for log rotation)' },
} satisfies SettingsTable

export const openFileCacheTable = {
  validity: { type: 'duration', default: 1000, validate: nonNegative, description: 'how long a cached stat/open result is trusted before it is checked again (0 = always stat)' },
  maxEntries: { type: 'int', default: 10_000, validate: positive, description: 'entries kept (descriptors are closed on eviction)' },
  memoryMaxFile: { type: 'size', default: 256 * 1024, validate: nonNegative, description: 'files up to this size are kept in memory (0 = never)' },
  memoryBudget: { type: 'size', default: 64 * 1024 * 1024, validate: nonNegative, description: 'total bytes of file contents kept in memory' },
} satisfies SettingsTable

export const listenerTable = {
  host: { type: 'string', default: '127.0.0.1', description: 'address to bind (`0.0.0.0` / `::` for every interface)' },
  port: { type: 'int', default: 8080, validate: (n: number) => (n >= 0 && n <= 65535 ? undefined : 'must be 0..65535'), description: 'TCP port (0 = any free port; read it back from `addresses`)' },
  tls: { type: 'any', default: undefined as unknown, description: '`{ certs: [{ cert, key, names? }], selfSigned? }` or `true` for a generated self-signed certificate' },
  http2: { type: 'boolean', default: true, description: 'offer HTTP/2 by ALPN on TLS listeners (HTTP/1.1 stays available)' },
  redirectToHttps: { type: 'any', default: false as unknown, description: '`true` or `{ status: 301|308, port }`: answer every request with a redirect to https' },
  proxyProtocol: { type: 'boolean', default: false, description: 'read a PROXY protocol v1/v2 header (HAProxy, AWS NLB) off each connection from `edge.trustedProxies`, before HTTP and TLS; its source address becomes the client\'s peer address. A header from any other peer is refused (400); a trusted peer that sends none within `limits.headersTimeout` is closed (400/408)' },
} satisfies SettingsTable

export const staticTable = {
  root: { type: 'string', default: undefined as string | undefined, description: 'directory the URL path is appended to (nginx `root`)' },
  alias: { type: 'string', default: undefined as string | undefined, description: 'directory that replaces the route\'s `pathPrefix` (nginx `alias`)' },
  index: { type: 'list', default: ['index.html'] as string[], description: 'files tried for a directory (nginx `index`); no listing is ever produced' },
  tryFiles: { type: 'list', default: [] as string[], description: 'nginx `try_files`: e.g. `["$uri", "$uri/", "/index.html"]` or ending in `=404`' },
  dotfiles: {
    type: 'string', default: 'deny', description: '`deny` (404 for any path segment starting with "." except `.well-known`) or `allow`',
    validate: (s: string) => (s === 'deny' || s === 'allow' ? undefined : 'must be "deny" or "allow"'),
  },
  precompressed: { type: 'boolean', default: true, description: 'serve `file.br` / `file.gz` siblings when the client accepts them' },
  immutable: { type: 'any', default: '\\.[0-9a-f]{8,}\\.' as string | RegExp | false, description: 'file names matching this pattern get `Cache-Control: public, max-age=31536000, immutable` (false = off)' },
  cacheControl: { type: 'string', default: '', description: 'Cache-Control for other files (empty = none)' },
} satisfies SettingsTable
