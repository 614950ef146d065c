// The master: one readable loop. Signal handlers and worker events only enqueue; each turn of the
// loop handles queued events (signals, worker messages, exits = reaping), kills stalled workers,
// and keeps the worker count — replacing retiring workers (reload, recycling) only once their
// successors are ready, so capacity never dips and no request is dropped.
//
// Workers are node:cluster workers: the master owns the listening socket and hands connections
// round-robin to the workers that listen (the same path as the raw node:cluster anchor in
// bench/server.ts). A worker joins the rotation when it calls listen() — after app.ready() — and
// leaves it when it closes its server to drain.
import cluster, { type Worker } from 'node:cluster'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ErrorLog } from './logging.ts'
import { runHook, type HookName, type MasterInfo, type ServerHookMap, type ServerHooks, type WorkerInfo } from './hooks.ts'
import { EXIT, WORKER_ENV, isWorkerMessage, type MasterMessage, type WorkerMessage, type WorkerSpec } from './messages.ts'
import type { ServerSettings } from './settings.ts'
import { removeStaleUnixSockets } from './binds.ts'
import { heartbeatInterval, readStallReport, clearStallReport } from './watchdog.ts'

type Signal = 'SIGHUP' | 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGTTIN' | 'SIGTTOU' | 'SIGUSR1'
export const HANDLED_SIGNALS: readonly Signal[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1']

type Event =
  | { kind: 'signal'; sig: Signal }
  | { kind: 'message'; id: number; msg: WorkerMessage }
  | { kind: 'exit'; id: number; code: number | null; signal: string | null }

interface Slot {
  id: number
  worker: Worker
  pid: number
  state: 'booting' | 'ready' | 'draining'
  /** Replaced as soon as enough successors are ready (reload, maxRequests). */
  retiring?: 'reload' | 'recycled'
  /** Why we stopped it, for logs and the workerExit hook. */
  exitReason?: string
  spawnedAt: number
  lastBeat: number
  beating: boolean
  killAt?: number
}

export interface ArbiterOptions {
  settings: ServerSettings
  /** Absolute path of the app module. */
  app: string
  configFile?: string
  /** Command-line settings; they override the config file, also after a reload. */
  flags: Record<string, unknown>
  /** Re-reads the config on HUP; throws ConfigError on a bad file (the old config then stays). */
  reloadSettings?: () => Promise<ServerSettings>
  /** Where the worker entry lives; the default is this package's worker-main.ts. */
  workerEntry?: string
}

const BOOT_GRACE_MS = 30_000

/** The master's node flags (heap size, …) minus loaders, which workers get their own way, and the inspector. */
function inheritedExecArgv(): string[] {
  const out: string[] = []
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (/^--(import|loader|experimental-loader|require)$/.test(a) || a === '-r') { i++; continue }
    if (/^--(import|loader|experimental-loader|require)=/.test(a) || a.startsWith('--inspect')) continue
    out.push(a)
  }
  return out
}
const MAX_BACKOFF_MS = 10_000

/**
 * @example
 * const code = await new Arbiter({ settings, app: '/srv/app.ts', flags: {} }).run()
 * process.exit(code)
 */
export class Arbiter {
  #o: ArbiterOptions
  #settings: ServerSettings
  #log: ErrorLog
  #queue: Event[] = []
  #wake: (() => void) | undefined
  #slots = new Map<number, Slot>()
  #target: number
  #nextId = 1
  #everReady = false
  #announcedReady = false
  #bootFailures = 0
  #nextSpawnAt = 0
  #stopping: 'graceful' | 'quick' | undefined
  #stopDeadline = 0
  #exitCode: number = EXIT.ok
  #unixPaths: string[] = []

  constructor(o: ArbiterOptions) {
    this.#o = o
    this.#settings = o.settings
    this.#target = o.settings.workers
    this.#log = new ErrorLog(o.settings.errorLog, o.settings.logLevel)
  }

  get #info(): MasterInfo {
    return { pid: process.pid, bind: this.#settings.bind, workers: this.#target }
  }

  #hook<K extends HookName>(name: K, args: Parameters<ServerHookMap[K]>): Promise<void> {
    return runHook(this.#settings.hooks as ServerHooks, name, (m) => this.#log.error(m), args)
  }

  #enqueue(e: Event): void {
    this.#queue.push(e)
    this.#wake?.()
  }

  #sleep(ms: number): Promise<void> {
    if (this.#queue.length > 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done(): void {
        clearTimeout(timer)
        self.#wake = undefined
        resolve()
      }
      this.#wake = done
    })
  }

  /** Runs until stopped; resolves to the process exit code. */
  async run(): Promise<number> {
    const s = this.#settings
    this.#log.info(`Starting causeway serve (pid: ${process.pid})`)
    const handlers = HANDLED_SIGNALS.map((sig) => [sig, () => this.#enqueue({ kind: 'signal', sig })] as const)
    for (const [sig, h] of handlers) process.on(sig, h)
    // Before the first fork: the policy is fixed when the first worker's listener is shared.
    cluster.schedulingPolicy = s.accept === 'master' ? cluster.SCHED_RR : cluster.SCHED_NONE
    cluster.setupPrimary({
      exec: this.#o.workerEntry ?? fileURLToPath(new URL('./worker-main.ts', import.meta.url)),
      execArgv: ['--import', import.meta.resolve('tsx'), ...inheritedExecArgv()],
    })
    const onExit = (w: Worker, code: number | null, signal: string | null) => this.#enqueue({ kind: 'exit', id: this.#idOf(w), code, signal })
    const onMessage = (w: Worker, msg: unknown) => {
      if (isWorkerMessage(msg)) this.#enqueue({ kind: 'message', id: this.#idOf(w), msg })
    }
    cluster.on('exit', onExit)
    cluster.on('message', onMessage)
    this.#unixPaths = removeStaleUnixSockets(s.bind)
    await this.#hook('onStarting', [this.#info])
    for (const b of s.bind) this.#log.info(`Listening at: ${b.startsWith('unix:') ? b : `http://${b}`} (${process.pid})`)

    // The loop: handle what happened (signals, messages, exits), kill the stalled, keep the count —
    // or, when stopping, wait for the last worker — then sleep until an event or the next tick.
    while (true) {
      for (const event of this.#queue.splice(0)) await this.#handle(event)
      await this.#killStalled()
      if (this.#stopping) {
        if (this.#slots.size === 0) break
        if (Date.now() >= this.#stopDeadline) this.#killAll('did not stop in time')
      } else {
        this.#keepCount()
      }
      await this.#sleep(this.#tickMs())
    }

    for (const [sig, h] of handlers) process.off(sig, h)
    cluster.off('exit', onExit)
    cluster.off('message', onMessage)
    for (const p of this.#unixPaths) rmSync(p, { force: true })
    await this.#hook('onExit', [this.#info])
    this.#log.info(`Shutting down: Master (exit code ${this.#exitCode})`)
    this.#log.flush()
    await this.#log.close()
    return this.#exitCode
  }

  #tickMs(): number {
    return this.#settings.timeout > 0 ? Math.min(250, heartbeatInterval(this.#settings.timeout)) : 250
  }

  #idOf(w: Worker): number {
    return (w as Worker & { causewayId?: number }).causewayId ?? -1
  }

  async #handle(e: Event): Promise<void> {
    if (e.kind === 'signal') return this.#onSignal(e.sig)
    if (e.kind === 'exit') return this.#reap(e.id, e.code, e.signal)
    const slot = this.#slots.get(e.id)
    if (!slot) return
    slot.lastBeat = Date.now()
    slot.beating = true
    const m = e.msg
    switch (m.t) {
      case 'hb':
        return
      case 'ready':
        if (slot.state === 'booting') slot.state = 'ready'
        this.#everReady = true
        this.#bootFailures = 0
        this.#log.info(`Worker ready (pid: ${slot.pid})`)
        return
      case 'recycle':
        if (!slot.retiring && slot.state !== 'draining') {
          slot.retiring = 'recycled'
          this.#log.info(`Worker (pid: ${slot.pid}) served ${m.served} requests (maxRequests): recycling`)
        }
        return
      case 'failing':
        if (slot.state === 'booting') return
        slot.exitReason = 'uncaught exception'
        slot.state = 'draining'
        return
      case 'load-error':
        if (!this.#everReady) return this.#halt(EXIT.appLoadError, `App failed to load; not retrying:\n${m.message}`)
        this.#log.error(`Worker (pid: ${slot.pid}) could not load the app; the running workers keep serving:\n${m.message}`)
        this.#cancelReload()
        return
      case 'bind-error':
        if (!this.#everReady) return this.#halt(EXIT.bootError, `Cannot listen on ${this.#settings.bind.join(', ')}: ${m.message}`)
        this.#log.error(`Worker (pid: ${slot.pid}) cannot listen: ${m.message}`)
        return
    }
  }

  async #onSignal(sig: Signal): Promise<void> {
    this.#log.info(`Handling signal: ${sig.slice(3).toLowerCase()}`)
    switch (sig) {
      case 'SIGHUP':
        return this.#reload()
      case 'SIGTERM':
        return this.#stop('graceful')
      case 'SIGINT':
      case 'SIGQUIT':
        return this.#stop('quick')
      case 'SIGTTIN':
        this.#target++
        this.#log.info(`Worker count raised to ${this.#target}`)
        return
      case 'SIGTTOU':
        this.#target = Math.max(1, this.#target - 1)
        this.#log.info(`Worker count lowered to ${this.#target}`)
        return
      case 'SIGUSR1':
        this.#log.reopen()
        this.#broadcast({ t: 'reopen' })
        return
    }
  }

  /** HUP: new config, new code — in new workers; the old ones drain once the new ones are ready. */
  async #reload(): Promise<void> {
    if (this.#stopping) return
    if (this.#o.reloadSettings) {
      try {
        const next = await this.#o.reloadSettings()
        if (next.bind.join() !== this.#settings.bind.join()) this.#log.warning('bind changed in the config: restart the server to listen on new addresses; keeping the old ones')
        this.#settings = { ...next, bind: this.#settings.bind }
        this.#target = next.workers
        this.#log.setLevel(next.logLevel)
      } catch (e) {
        this.#log.error(`Reload: the config is invalid, keeping the running configuration: ${(e as Error).message}`)
        return
      }
    }
    await this.#hook('onReload', [this.#info])
    for (const slot of this.#slots.values()) if (slot.state !== 'draining') slot.retiring = 'reload'
  }

  /** The new code cannot load: stop its still-booting workers, keep the old ones serving. */
  #cancelReload(): void {
    if (![...this.#slots.values()].some((s) => s.retiring === 'reload')) return
    for (const slot of this.#slots.values()) {
      if (slot.retiring === 'reload') slot.retiring = undefined
      else if (slot.state === 'booting' && slot.killAt === undefined) {
        slot.exitReason = 'reload failed'
        slot.killAt = Date.now()
        slot.worker.process.kill('SIGKILL')
      }
    }
  }

  #stop(how: 'graceful' | 'quick'): void {
    if (this.#stopping === 'quick' || this.#stopping === how) return
    this.#stopping = how
    const grace = how === 'graceful' ? this.#settings.gracefulTimeout : 2000
    this.#stopDeadline = Date.now() + grace
    for (const slot of this.#slots.values()) {
      slot.exitReason ??= 'stop'
      if (how === 'quick') slot.worker.process.kill('SIGINT')
      // The worker's own deadline comes a little earlier, so it can close connections cleanly.
      else this.#drain(slot, Math.max(0, grace - 250))
    }
  }

  #halt(code: number, message: string): void {
    this.#log.critical(message)
    this.#exitCode = code
    this.#stopping = 'quick'
    this.#stopDeadline = Date.now() + 2000
    for (const slot of this.#slots.values()) slot.worker.process.kill('SIGKILL')
  }

  #killAll(why: string): void {
    for (const slot of this.#slots.values()) {
      if (slot.killAt !== undefined) continue
      slot.killAt = Date.now()
      this.#log.warning(`Killing worker (pid: ${slot.pid}): ${why}`)
      slot.worker.process.kill('SIGKILL')
    }
  }

  #drain(slot: Slot, timeout: number): void {
    if (slot.state === 'draining') return
    slot.state = 'draining'
    const msg: MasterMessage = { t: 'drain', timeout }
    if (slot.worker.isConnected()) slot.worker.send(msg)
    else slot.worker.process.kill('SIGTERM')
  }

  #broadcast(m: MasterMessage): void {
    for (const slot of this.#slots.values()) if (slot.worker.isConnected()) slot.worker.send(m)
  }

  /** Reaps one exited worker: logs why, applies back-off to boot crashes, runs workerExit. */
  async #reap(id: number, code: number | null, signal: string | null): Promise<void> {
    const slot = this.#slots.get(id)
    if (!slot) return
    this.#slots.delete(id)
    clearStallReport(slot.pid)
    const expected = slot.exitReason !== undefined
    if (!expected && !this.#stopping) {
      const how = signal ? `signal ${signal}` : `code ${code}`
      if (slot.state === 'booting') {
        if (code === EXIT.appLoadError && !this.#everReady) return this.#halt(EXIT.appLoadError, 'App failed to load; not retrying (see the error above)')
        if (code === EXIT.bootError && !this.#everReady) return this.#halt(EXIT.bootError, `Worker failed to boot (cannot listen on ${this.#settings.bind.join(', ')})`)
        this.#bootFailures++
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** (this.#bootFailures - 1))
        this.#nextSpawnAt = Date.now() + delay
        this.#log.error(`Worker (pid: ${slot.pid}) crashed while booting (${how}); next attempt in ${delay} ms`)
        if (code === EXIT.appLoadError) this.#cancelReload()
      } else {
        this.#log.error(`Worker (pid: ${slot.pid}) exited unexpectedly (${how})`)
      }
    } else {
      this.#log.info(`Worker exiting (pid: ${slot.pid}, ${slot.exitReason ?? 'stop'})`)
    }
    await this.#hook('workerExit', [this.#info, { id, pid: slot.pid, exitCode: code, signal, reason: slot.exitReason ?? (this.#stopping ? 'stop' : 'crash') }])
  }

  /** Kills workers that missed their heartbeat (the log names the request they were serving). */
  async #killStalled(): Promise<void> {
    const now = Date.now()
    const timeout = this.#settings.timeout
    for (const slot of this.#slots.values()) {
      if (slot.killAt !== undefined) continue
      // The last beat may precede the stall by up to one period: wait that much longer, so a
      // worker is never killed before its loop was blocked for `timeout`. Until its first beat a
      // worker is still starting node and tsx: a longer allowance.
      const allowance = slot.beating ? timeout + heartbeatInterval(timeout) : Math.max(timeout, BOOT_GRACE_MS)
      if (timeout > 0 && now - slot.lastBeat > allowance) {
        const request = readStallReport(slot.pid)
        this.#log.critical(`WORKER TIMEOUT (pid:${slot.pid}) ${request ? `serving ${request}` : 'with no request in flight'}`)
        slot.exitReason = 'timeout'
        slot.killAt = now
        await this.#hook('workerAbort', [this.#info, { id: slot.id, pid: slot.pid, reason: 'timeout', request }])
        slot.worker.process.kill('SIGKILL')
      }
    }
  }

  /** Spawns missing workers, drains extra ones, and retires old ones once successors are ready. */
  #keepCount(): void {
    const now = Date.now()
    const live = [...this.#slots.values()].filter((s) => !s.retiring && s.state !== 'draining')
    let missing = this.#target - live.length
    while (missing > 0 && now >= this.#nextSpawnAt) {
      this.#spawn()
      missing--
      // After a boot crash, one at a time, each waiting its back-off.
      if (this.#bootFailures > 0) break
    }
    if (missing < 0) {
      // Booting ones first (they serve nobody yet), then the oldest.
      const rank = (s: Slot): number => (s.state === 'booting' ? -1e15 : 0) + s.spawnedAt
      const extra = live.sort((a, b) => rank(a) - rank(b)).slice(0, -missing)
      for (const slot of extra) {
        slot.exitReason = 'scale-down'
        this.#drain(slot, this.#settings.gracefulTimeout)
      }
    }
    const ready = live.filter((s) => s.state === 'ready').length
    if (ready >= this.#target) {
      for (const slot of this.#slots.values()) {
        if (slot.retiring && slot.state !== 'draining') {
          slot.exitReason = slot.retiring
          this.#drain(slot, this.#settings.gracefulTimeout)
        }
      }
      if (!this.#announcedReady) {
        this.#announcedReady = true
        this.#log.info(`Ready: ${ready} worker(s)`)
        void this.#hook('whenReady', [this.#info])
      }
    }
  }

  #spawn(): void {
    const id = this.#nextId++
    const spec: WorkerSpec = { id, configFile: this.#o.configFile, flags: this.#o.flags, app: this.#o.app }
    const info: WorkerInfo = { id }
    void this.#hook('preFork', [this.#info, info])
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(spec) })
    ;(worker as Worker & { causewayId?: number }).causewayId = id
    const now = Date.now()
    const pid = worker.process.pid!
    this.#slots.set(id, { id, worker, pid, state: 'booting', spawnedAt: now, lastBeat: now, beating: false })
    this.#log.info(`Booting worker with pid: ${pid}`)
  }
}
