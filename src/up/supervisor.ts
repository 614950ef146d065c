// `causeway up`: a small supervisor (design.md §1). It validates the config, prepares the project
// (migrations, seed, collectstatic — in a one-shot child), then starts the app server master and
// the edge process(es), each a child process of its own so one part crashing never takes the
// others down. Crashed parts are restarted with back-off; SIGINT/SIGTERM drain everything.
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { request } from 'node:http'
import { fork } from 'node:child_process'
import { resolve } from 'node:path'
import { loadConfig, type LoadedConfig } from '../config.ts'
import { ConfigError } from '../errors.ts'
import { resolveServerSettings } from '../server/settings.ts'
import { resolveDbSettings } from '../db/settings.ts'
import { validateEdgeConfig } from '../edge/config/validate.ts'
import { ensureSelfSigned } from '../edge/listeners/self-signed.ts'
import { compileConfig } from '../firewall/config.ts'
import { resolveUpSettings, type UpSettings } from './settings.ts'
import { buildEdgeSection, planTopology, type EdgePlan, type PlanListener } from './topology.ts'
import { Part, StartError, type ListenAddress, type PartOptions } from './part.ts'
import type { Prepared } from './prepare-child.ts'

export interface UpOptions {
  /** Project directory (default: cwd); its causeway.config.ts is loaded. */
  dir?: string
  /** An explicit config file (wins over `dir`). */
  configFile?: string
  /** Settings from flags (keys of UP_SETTINGS: port, httpsPort, topology, …). */
  flags?: Record<string, unknown>
  /** Where progress and the ready line go (default stdout) and where crash reports go (stderr). */
  out?: (line: string) => void
  err?: (line: string) => void
  /** Resolves when `up` should stop (default: the first SIGINT or SIGTERM). */
  stopSignal?: Promise<string>
}

export interface ReadyInfo { http?: string; https?: string; journey?: string }

const here = (f: string) => new URL(f, import.meta.url).href

/**
 * Runs the whole stack until SIGINT/SIGTERM; resolves to the exit code. Config errors throw
 * ConfigError naming the key (the CLI turns them into exit 2).
 * @example process.exitCode = await up({ dir: 'examples/shop', flags: { port: 0, httpsPort: 0 } })
 */
export async function up(o: UpOptions = {}): Promise<number> {
  const out = o.out ?? ((s: string) => console.log(s))
  const err = o.err ?? ((s: string) => console.error(s))
  const report = (s: string) => err(`causeway up: ${s}`)
  const loaded = await loadConfig({ file: o.configFile, dir: o.dir })
  if (o.dir && !o.configFile && !loaded.file) throw new ConfigError('project-dir', `no causeway.config.ts in ${loaded.root}`)
  const settings = resolveUpSettings(section(loaded, 'up'), o.flags)
  const appModule = findApp(loaded)
  validateSections(loaded, settings)
  const parts: Part[] = []
  // Signals are watched from the start so a Ctrl-C during preparation also stops cleanly. A
  // terminal's Ctrl-C reaches the parts too: they are marked stopping at once, so their own exit
  // is never mistaken for a crash and restarted.
  const stopSignal = (o.stopSignal ?? new Promise<string>((res) => {
    process.once('SIGINT', () => res('SIGINT'))
    process.once('SIGTERM', () => res('SIGTERM'))
  })).then((sig) => {
    for (const p of parts) p.stopping()
    return sig
  })
  const childEnv = { CAUSEWAY_UP_CONFIG: loaded.file ?? '', CAUSEWAY_UP_ROOT: loaded.root }

  let stopped: string | undefined
  void stopSignal.then((sig) => { stopped = sig })
  const prepared = await prepare(loaded.root, settings, childEnv, stopSignal)
  if (stopped) {
    report(`${stopped} during preparation: stopped`)
    return 0
  }
  if (typeof prepared === 'number') return prepared

  const partOpts: PartOptions = { restartDelay: settings.restartDelay, maxRestartDelay: settings.maxRestartDelay, readyTimeout: settings.readyTimeout, report }
  const stopAll = async () => {
    // Outermost first (parts are in start order, edges outermost first, then the app server): an
    // edge drains its in-flight requests while the hops behind it still run.
    for (const p of parts) await p.stop(settings.stopTimeout)
  }
  try {
    // Two loopback addresses by default: two upstream targets, so the edge can retry an idempotent
    // request on a fresh connection when the worker holding a pooled one was killed mid-way.
    const appBind = settings.appBind.split(',').map((b) => b.trim()).filter(Boolean).join(',') || `127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`
    const plans = planTopology({
      topology: settings.topology as 'single' | 'split',
      public: publicListeners(loaded, settings),
      innerPorts: settings.topology === 'split' ? [await freePort(), await freePort()] : [0, 0],
      appBind,
      static: prepared.static,
      whoamiPath: settings.whoamiPath,
    })
    // Outermost first: it hosts the journey's collector, whose OTLP endpoint (on its real port)
    // the inner edges and the app server's workers export to. An edge whose next hop is not up
    // yet answers 502 until it is; the ready line comes only once everything is up.
    let outer: ListenAddress[] = []
    let journey: { dashboardPath: string; otlpEndpoint?: string } | undefined
    const exportEnv: Record<string, string> = {}
    for (const plan of plans) {
      const part = new Part({
        name: plan.name, script: here('./edge-child.ts'), cwd: loaded.root,
        nodeArgs: validateEdgeConfig(buildEdgeSection(plan, section(loaded, 'edge')), loaded.root).nodeArgs,
        env: { ...childEnv, ...exportEnv, CAUSEWAY_UP_PLAN: JSON.stringify(plan) },
        ready: 'message',
      }, partOpts)
      parts.push(part)
      const ready = await raceStop(part.start(), stopSignal)
      const addrs = ready.addresses ?? []
      out(`causeway up: ${plan.name} ready on ${addrs.map((a) => a.url).join(' ') || '?'} (pid ${part.pid})`)
      // A restarted edge listens on the same ports it got the first time (port 0 included).
      const pinned: EdgePlan = { ...plan, listen: plan.listen.map((l, i) => ({ ...l, port: addrs[i]?.port ?? l.port })) }
      part.spec.env = { ...part.spec.env, CAUSEWAY_UP_PLAN: JSON.stringify(pinned) }
      if (plan.journey === 'host') {
        outer = addrs
        journey = ready.journey
        // An endpoint the user set (journey.otlpEndpoint / OTEL_EXPORTER_OTLP_ENDPOINT) wins.
        if (journey?.otlpEndpoint && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT && !loaded.config.journey?.otlpEndpoint) exportEnv.OTEL_EXPORTER_OTLP_ENDPOINT = journey.otlpEndpoint
      }
    }

    const server = new Part({
      name: 'app server', script: here('./server-child.ts'), cwd: loaded.root,
      env: { ...childEnv, ...exportEnv, CAUSEWAY_UP_APP: appModule, CAUSEWAY_UP_BIND: appBind },
      ready: () => probe(appBind.split(',')[0]!),
    }, partOpts)
    parts.push(server)
    await raceStop(server.start(), stopSignal)
    out(`causeway up: app server ready on ${appBind} (pid ${server.pid})`)

    const info = readyInfo(outer, journey?.dashboardPath)
    out(`causeway up: ${[info.http, info.https].filter(Boolean).join(' ')} journey ${info.journey}`)

    // SIGHUP reloads every part without downtime: the edges re-read the config, the app server
    // master starts a fresh generation of workers (new code) before retiring the old one.
    const hup = () => {
      report('SIGHUP: reloading')
      for (const p of parts) p.signal('SIGHUP')
    }
    process.on('SIGHUP', hup)
    const sig = await stopSignal
    process.off('SIGHUP', hup)
    report(`${sig}: stopping (draining in-flight requests)`)
    await stopAll()
    report('stopped')
    return 0
  } catch (e) {
    await stopAll()
    if (e instanceof Stopped) { report(`${e.signal} during start: stopped`); return 0 }
    if (e instanceof StartError) { report(e.message); return e.exitCode }
    throw e
  }
}

class Stopped extends Error { constructor(readonly signal: string) { super(signal) } }

function raceStop<T>(p: Promise<T>, stop: Promise<string>): Promise<T> {
  return Promise.race([p, stop.then((s) => { throw new Stopped(s) })])
}

function section(loaded: LoadedConfig, name: string): Record<string, unknown> {
  const s = (loaded.config as Record<string, unknown>)[name] ?? {}
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new ConfigError(name, 'must be an object')
  return s as Record<string, unknown>
}

function findApp(loaded: LoadedConfig): string {
  const fromApp = loaded.config.app?.module
  const fromServer = loaded.config.server?.app
  const key = typeof fromApp === 'string' ? 'app.module' : typeof fromServer === 'string' ? 'server.app' : 'app.module'
  const file = resolve(loaded.root, String(typeof fromApp === 'string' ? fromApp : typeof fromServer === 'string' ? fromServer : './app.ts'))
  if (!existsSync(file)) throw new ConfigError(key, `no app module at ${file}`)
  return file
}

/** Every room validates its own section; doing it here turns a typo into exit 2 before anything starts. */
function validateSections(loaded: LoadedConfig, settings: UpSettings): void {
  resolveServerSettings(section(loaded, 'server'), { bind: ['127.0.0.1:1'] })
  resolveDbSettings(section(loaded, 'db'))
  const [plan] = planTopology({ topology: 'single', public: publicListeners(loaded, settings, false), innerPorts: [0, 0], appBind: '127.0.0.1:1', whoamiPath: settings.whoamiPath })
  validateEdgeConfig(buildEdgeSection(plan!, section(loaded, 'edge')), loaded.root)
  compileConfig(section(loaded, 'firewall'))
}

function publicListeners(loaded: LoadedConfig, s: UpSettings, makeCert = true): PlanListener[] {
  const list: PlanListener[] = [{ host: s.host, port: s.port }]
  if (!s.https) return list
  let tls: { cert: string; key: string }
  if (s.tls) {
    if (typeof s.tls.cert !== 'string' || typeof s.tls.key !== 'string') throw new ConfigError('up.tls', 'must be { cert, key } file paths')
    tls = { cert: resolve(loaded.root, s.tls.cert), key: resolve(loaded.root, s.tls.key) }
  } else if (!makeCert) {
    return list // validation only: the certificate is generated later
  } else {
    const dir = resolve(loaded.root, String(loaded.config.edge?.tlsDir ?? '.causeway/tls'))
    const names = s.host === '0.0.0.0' || s.host === '::' || s.host === '127.0.0.1' ? [] : [s.host]
    tls = ensureSelfSigned(dir, names, 'up.https')
  }
  list.push({ host: s.host, port: s.httpsPort, tls })
  return list
}

/** Runs the one-shot preparation child; resolves to what it found, or to an exit code. */
function prepare(root: string, s: UpSettings, env: Record<string, string>, stop: Promise<string>): Promise<Prepared | number> {
  const steps = [s.migrate && 'migrate', s.seed && 'seed', s.collectstatic && 'collectstatic'].filter(Boolean).join(',')
  if (!steps) return Promise.resolve({ type: 'prepared' })
  return new Promise((res) => {
    let result: Prepared = { type: 'prepared' }
    const child = fork(new URL('./prepare-child.ts', import.meta.url), [], {
      cwd: root, env: { ...process.env, ...env, CAUSEWAY_UP_STEPS: steps }, execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    child.on('message', (m: Prepared) => { if (m?.type === 'prepared') result = m })
    child.once('exit', (code) => res(code === 0 ? result : (code ?? 1)))
    // Ctrl-C while migrating: each migration runs in a transaction, so stopping is safe.
    void stop.then(() => { if (child.exitCode === null) child.kill('SIGTERM') })
  })
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer()
    srv.once('error', rej)
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => res(port))
    })
  })
}

/** True once anything answers HTTP at the bind: a worker of the app server is listening. */
export function probe(bind: string): Promise<boolean> {
  const target = bind.startsWith('unix:') ? { socketPath: bind.slice(5) } : hostPort(bind)
  return new Promise((res) => {
    const req = request({ ...target, method: 'HEAD', path: '/', headers: { host: 'localhost' }, timeout: 2000 }, (r) => { r.resume(); res(true) })
    req.once('timeout', () => req.destroy())
    req.once('error', () => res(false))
    req.end()
  })
}

function hostPort(bind: string): { host: string; port: number } {
  const i = bind.lastIndexOf(':')
  return { host: bind.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(bind.slice(i + 1)) }
}

function readyInfo(addrs: ListenAddress[], dashboardPath: string | undefined): ReadyInfo {
  const url = (a?: ListenAddress) => a && `${a.scheme}://${a.host === '0.0.0.0' ? '127.0.0.1' : a.host === '::' ? '[::1]' : a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`
  const http = url(addrs.find((a) => a.scheme === 'http'))
  const https = url(addrs.find((a) => a.scheme === 'https'))
  return { http, https, journey: dashboardPath ? `${http ?? https}${dashboardPath}` : 'off' }
}
