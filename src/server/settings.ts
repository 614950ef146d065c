// The app server's one settings table (Gunicorn's `Setting`): it drives the `server` section of
// causeway.config.ts, the `causeway serve` flags and the table in docs/server.md.
import { availableParallelism } from 'node:os'
import { resolveSettings, type SettingSpec, type SettingsOf } from '../settings-table.ts'
import { CidrSet } from '../net/ip.ts'
import { checkHooks, type ServerHooks } from './hooks.ts'
import { parseBind } from './binds.ts'

export { parseBind, type BindAddress } from './binds.ts'

const positive = (what: string) => (v: number) => (v >= 1 ? undefined : `${what} must be at least 1`)
const nonNegative = (v: number) => (v >= 0 ? undefined : 'must be 0 or more')
const cidrs = (v: string[]) => {
  try {
    new CidrSet(v)
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}

/** A flag the table cannot express on its own: a short alias. */
export const SHORT_FLAGS: Record<string, string> = { '-b': '--bind', '-w': '--workers', '-t': '--timeout', '-c': '--config' }

function spec<T>(s: SettingSpec<T>): SettingSpec<T> {
  return s
}

export const SERVER_SETTINGS = {
  app: spec<string>({ type: 'string', default: '', flag: '--app', description: 'Module whose default export is the app (an App, a `(req, res)` handler or `{ createApp() }`). The positional argument of `causeway serve` overrides it.' }),
  bind: spec<string[]>({
    type: 'list', default: ['127.0.0.1:8000'], flag: '--bind',
    validate: (v) => v.length === 0 ? 'needs at least one address' : v.map(bindProblem).find(Boolean),
    description: '`host:port`, `[v6]:port`, `:port` or `unix:/path`; repeat the flag to listen on several. With `PORT` set and no bind given: `0.0.0.0:$PORT`.',
  }),
  workers: spec<number>({ type: 'int', default: availableParallelism(), env: 'WEB_CONCURRENCY', flag: '--workers', validate: positive('workers'), description: 'Worker processes. Default: `WEB_CONCURRENCY`, else the number of cores.' }),
  accept: spec<'shared' | 'master'>({
    type: 'string', default: 'master', flag: '--accept',
    validate: (v) => (v === 'shared' || v === 'master' ? undefined : 'must be "shared" or "master"'),
    description: 'How connections reach workers. `shared`: every worker accepts from the listening socket when it is free, as Gunicorn\'s workers do, so a busy worker takes fewer of a proxy\'s long-lived keep-alive connections. `master`: the master accepts and hands them out in turn (node:cluster\'s round robin), blind to how busy each worker is.',
  }),
  timeout: spec<number>({ type: 'duration', default: 30_000, flag: '--timeout', validate: nonNegative, description: 'A worker silent for this long (its event loop blocked) is killed with SIGKILL and replaced; the log names the request it was serving. 0 disables.' }),
  gracefulTimeout: spec<number>({ type: 'duration', default: 30_000, flag: '--graceful-timeout', validate: nonNegative, description: 'After TERM or a reload, how long workers may finish in-flight requests before they are killed.' }),
  maxRequests: spec<number>({ type: 'int', default: 0, flag: '--max-requests', validate: nonNegative, description: 'Recycle a worker (gracefully) after this many requests; 0 disables.' }),
  maxRequestsJitter: spec<number>({ type: 'int', default: 0, flag: '--max-requests-jitter', validate: nonNegative, description: 'Adds 0..jitter to each worker\'s maxRequests so workers do not all restart at once.' }),
  keepAliveTimeout: spec<number>({ type: 'duration', default: 75_000, flag: '--keep-alive', validate: nonNegative, description: 'Idle keep-alive connections are closed after this. Longer than balancer idle timeouts (ALB 60 s) so the balancer, not the server, closes idle connections.' }),
  headersTimeout: spec<number>({ type: 'duration', default: 10_000, flag: '--headers-timeout', validate: positive('headersTimeout'), description: 'A client must send the whole request head within this; otherwise 408 and close (slowloris).' }),
  requestTimeout: spec<number>({ type: 'duration', default: 300_000, flag: '--request-timeout', validate: nonNegative, description: 'A client must send the whole request (head and body) within this; otherwise 408. 0 disables.' }),
  maxRequestsPerConnection: spec<number>({ type: 'int', default: 0, flag: '--max-requests-per-connection', validate: nonNegative, description: 'Close a keep-alive connection after this many requests; 0 means no limit.' }),
  limitRequestLine: spec<number>({ type: 'int', default: 4094, flag: '--limit-request-line', validate: positive('limitRequestLine'), description: 'Longest request line (method, target, version) in bytes; longer → 414.' }),
  limitRequestFields: spec<number>({ type: 'int', default: 100, flag: '--limit-request-fields', validate: positive('limitRequestFields'), description: 'Most header fields in a request; more → 431.' }),
  limitRequestFieldSize: spec<number>({ type: 'int', default: 8190, flag: '--limit-request-field-size', validate: positive('limitRequestFieldSize'), description: 'Largest header field (`name: value`) in bytes; larger → 431.' }),
  limitRequestBody: spec<number>({ type: 'size', default: 100 * 1024 ** 2, flag: '--limit-request-body', validate: nonNegative, description: 'Largest request body; larger → 413 (by Content-Length before the app runs, or while a chunked body streams). 0 disables.' }),
  forwardedAllowIps: spec<string[]>({ type: 'list', default: ['127.0.0.1', '::1'], env: 'FORWARDED_ALLOW_IPS', flag: '--forwarded-allow-ips', validate: cidrs, description: 'Peers (CIDRs, `*` for all) whose X-Forwarded-For, X-Forwarded-Proto and X-Request-Id are believed.' }),
  proxyProtocol: spec<boolean>({ type: 'boolean', default: false, flag: '--proxy-protocol', description: 'Expect a PROXY protocol v1 or v2 header on connections from `proxyAllowIps`.' }),
  proxyAllowIps: spec<string[]>({ type: 'list', default: ['127.0.0.1', '::1'], flag: '--proxy-allow-ips', validate: cidrs, description: 'Peers allowed to send a PROXY protocol header (others get 400 if they try).' }),
  accessLog: spec<string>({ type: 'string', default: '', flag: '--access-log', description: 'Access log: `-` for stdout, a file path, or empty for none.' }),
  accessLogFormat: spec<'combined' | 'json'>({ type: 'string', default: 'combined', flag: '--access-log-format', validate: (v) => (v === 'combined' || v === 'json' ? undefined : 'must be "combined" or "json"'), description: '`combined` (Apache combined + request id + duration in ms) or `json` (one object per line).' }),
  errorLog: spec<string>({ type: 'string', default: '-', flag: '--error-log', description: 'Error log: `-` for stderr or a file path. USR1 reopens both logs (for logrotate).' }),
  logLevel: spec<'debug' | 'info' | 'warning' | 'error' | 'critical'>({ type: 'string', default: 'info', flag: '--log-level', validate: (v) => (['debug', 'info', 'warning', 'error', 'critical'].includes(v) ? undefined : 'must be debug, info, warning, error or critical'), description: 'Least severe error-log level written.' }),
  hooks: spec<ServerHooks>({ type: 'any', default: {}, validate: checkHooks, description: 'Lifecycle hooks (config file only): ' + 'onStarting, whenReady, onReload, preFork, postFork, postWorkerInit, preRequest, postRequest, workerInt, workerAbort, workerExit, onExit. See below.' }),
}

export type ServerSettings = SettingsOf<typeof SERVER_SETTINGS>

function bindProblem(b: string): string | undefined {
  if (b.startsWith('unix:')) return b.length > 5 ? undefined : `"${b}": unix: needs a path`
  return parseBind(b) ? undefined : `"${b}" is not host:port, [v6]:port, :port or unix:/path`
}

/**
 * Resolves the `server` section: defaults < config file < environment < flags.
 * @example resolveServerSettings({ workers: 2 }, { '--bind': ['unix:/tmp/app.sock'] })
 */
export function resolveServerSettings(
  given: Record<string, unknown> = {},
  flags: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): ServerSettings {
  const merged: Record<string, unknown> = { ...given }
  if (merged.bind === undefined && flags.bind === undefined && env.PORT) merged.bind = [`0.0.0.0:${env.PORT}`]
  // Flags win over the environment, so they are applied with the environment masked for them.
  const masked = { ...env }
  // An empty variable (`WEB_CONCURRENCY=`) means unset, as in a shell.
  for (const spec of Object.values(SERVER_SETTINGS) as SettingSpec[]) if (spec.env && masked[spec.env] === '') delete masked[spec.env]
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue
    merged[key] = value
    const e = (SERVER_SETTINGS as Record<string, SettingSpec>)[key]?.env
    if (e) delete masked[e]
  }
  return resolveSettings('server', SERVER_SETTINGS, merged, masked)
}
