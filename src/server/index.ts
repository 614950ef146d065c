// Causeway's app server (Gunicorn's role): `serve()` starts a master that forks workers running
// any App (src/contract.ts). `causeway serve` is a thin CLI over it.
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadConfig, type CausewayConfig } from '../config.ts'
import { ConfigError } from '../errors.ts'
import { Arbiter } from './arbiter.ts'
import { parseBind, resolveServerSettings, type ServerSettings } from './settings.ts'

export { SERVER_SETTINGS, resolveServerSettings, parseBind, type ServerSettings } from './settings.ts'
export { HOOK_NAMES, type ServerHooks, type ServerHookMap, type MasterInfo, type WorkerInfo } from './hooks.ts'
export { EXIT } from './messages.ts'
export { Arbiter } from './arbiter.ts'
export { HttpFrontend } from './http-frontend.ts'
export { toApp, loadApp } from './load-app.ts'
export { ErrorLog, AccessLog, type LogLevel } from './logging.ts'

export interface ServeOptions {
  /** App module path (relative to `cwd`); else `server.app` from the config (relative to it). */
  app?: string
  /** The config file; else causeway.config.ts in `cwd` if there is one. */
  configFile?: string
  /** Settings from the command line (keys of SERVER_SETTINGS); they win over the file. */
  flags?: Record<string, unknown>
  /** Defaults for keys the file's `server` section does not set (a host such as `causeway up` picks them). */
  defaults?: Record<string, unknown>
  cwd?: string
}

/**
 * Runs the master until it stops; resolves to the exit code (0, or EXIT.bootError/appLoadError).
 * @example process.exitCode = await serve({ app: 'app.ts', flags: { bind: ['127.0.0.1:8000'], workers: 2 } })
 */
export async function serve(o: ServeOptions = {}): Promise<number> {
  const cwd = resolve(o.cwd ?? process.cwd())
  const loaded = await loadConfig({ file: o.configFile, dir: cwd })
  const flags: Record<string, unknown> = { ...o.flags }
  // `defaults` fill only the keys the file's server section leaves unset.
  const sectionOf = (config: CausewayConfig) => ({ ...o.defaults, ...serverSection(config) })
  const section = sectionOf(loaded.config)
  const settings = resolveServerSettings(section, flags)
  const given = o.app ?? (flags.app as string | undefined)
  const app = given ? resolve(cwd, given) : appFromConfig(settings, loaded.config, loaded.root)
  // Port 0 becomes one concrete port here, so every worker (and every later generation) shares it.
  const bind = await Promise.all(settings.bind.map(concretePort))
  const pinned = { ...flags, bind, app }
  let generation = 0
  const reloadSettings = loaded.file
    ? async (): Promise<ServerSettings> => {
      const mod = await import(`${pathToFileURL(loaded.file!).href}?reload=${++generation}`)
      return resolveServerSettings(sectionOf((mod.default ?? mod.config) as CausewayConfig), pinned)
    }
    : undefined
  return new Arbiter({ settings: { ...settings, bind }, app, configFile: loaded.file, flags: pinned, reloadSettings }).run()
}

function serverSection(config: CausewayConfig | undefined): Record<string, unknown> {
  const s = config?.server ?? {}
  if (typeof s !== 'object' || s === null) throw new ConfigError('server', 'must be an object')
  return s
}

function appFromConfig(settings: ServerSettings, config: CausewayConfig, root: string): string {
  const fromApp = typeof config.app?.module === 'string' ? config.app.module : undefined
  const path = settings.app || fromApp
  if (!path) throw new ConfigError('server.app', 'no app module: pass one (`causeway serve app.ts`) or set server.app in causeway.config.ts')
  return resolve(root, path)
}

async function concretePort(b: string): Promise<string> {
  const a = parseBind(b)
  if (a?.kind !== 'tcp' || a.port !== 0) return b
  const port = await new Promise<number>((res, rej) => {
    const probe = createServer()
    probe.once('error', rej)
    probe.listen({ host: a.host, port: 0 }, () => {
      const p = (probe.address() as { port: number }).port
      probe.close(() => res(p))
    })
  })
  return a.host.includes(':') ? `[${a.host}]:${port}` : `${a.host}:${port}`
}
