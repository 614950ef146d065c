// One supervised part of the stack (an edge process, the app server master): a child process
// that is started, awaited until ready, restarted with back-off when it dies, and stopped on
// request. Readiness is either an IPC message from the child or a probe the supervisor runs.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface ListenAddress { scheme: 'http' | 'https'; host: string; port: number; url: string }

/** Messages a child sends to the supervisor over IPC. */
export type ChildMessage =
  | { type: 'ready'; addresses?: ListenAddress[]; journey?: { dashboardPath: string; otlpEndpoint?: string } }
  | { type: 'error'; message: string; config?: boolean }

export interface PartSpec {
  name: string
  /** The TypeScript entry file (run under tsx) and its arguments. */
  script: string
  args?: string[]
  /** Node flags for this part's process (before CAUSEWAY_UP_NODE_ARGS, which may add to them). */
  nodeArgs?: string[]
  env?: Record<string, string>
  cwd?: string
  /** Readiness: 'message' waits for {type:'ready'}; a function is polled until it resolves true. */
  ready: 'message' | (() => Promise<boolean>)
  /** Called before each restart: lets the supervisor pin ports learnt from the first start. */
  beforeRestart?: (spec: PartSpec) => void
}

export interface PartOptions {
  restartDelay: number
  maxRestartDelay: number
  readyTimeout: number
  report: (line: string) => void
}

/** Why a first start failed: exit code 2 for config errors, 1 otherwise. */
export class StartError extends Error {
  constructor(message: string, readonly exitCode: number) { super(message) }
}

const TSX = import.meta.resolve('tsx')

/** Extra node flags for every part (CAUSEWAY_UP_NODE_ARGS, space-separated): flags NODE_OPTIONS
 *  refuses, like `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the edge and the app server. */
function nodeArgs(): string[] {
  return (process.env.CAUSEWAY_UP_NODE_ARGS ?? '').split(' ').filter(Boolean)
}
const STABLE_MS = 10_000

/**
 * @example
 * const p = new Part({ name: 'edge', script: 'src/up/edge-child.ts', ready: 'message' }, opts)
 * const first = await p.start()   // { addresses } once listening; rejects with StartError
 * await p.stop(30_000)            // SIGTERM, SIGKILL after the timeout
 */
export class Part {
  readonly spec: PartSpec
  #o: PartOptions
  #child?: ChildProcess
  #stopping = false
  #delay: number
  #startedAt = 0
  #timer?: NodeJS.Timeout
  /** Restarts begin only once the part was ready once: a first start that fails ends `up`. */
  #wasReady = false
  restarts = 0

  constructor(spec: PartSpec, o: PartOptions) {
    this.spec = spec
    this.#o = o
    this.#delay = o.restartDelay
  }

  get pid(): number | undefined { return this.#child?.pid }

  /** Starts the child and resolves once it is ready. */
  start(): Promise<ChildMessage & { type: 'ready' }> {
    const child = this.#spawn()
    return new Promise((resolve, reject) => {
      let settled = false
      let lastError: { message: string; config?: boolean } | undefined
      const fail = (why: string, code = 1) => {
        if (settled) return
        settled = true
        clearTimeout(timeout)
        reject(new StartError(`${this.spec.name}: ${why}`, code))
      }
      const ok = (m: ChildMessage & { type: 'ready' }) => {
        if (settled) return
        settled = true
        clearTimeout(timeout)
        child.off('exit', onEarlyExit)
        this.#wasReady = true
        resolve(m)
      }
      const timeout = setTimeout(() => fail(`not ready after ${this.#o.readyTimeout} ms`), this.#o.readyTimeout)
      const onEarlyExit = (code: number | null, signal: string | null) => {
        fail(lastError?.message ?? `exited before it was ready (${signal ?? `code ${code}`})`, lastError?.config || code === 2 ? 2 : 1)
      }
      child.on('message', (m: ChildMessage) => {
        if (m?.type === 'error') lastError = m
        else if (m?.type === 'ready' && this.spec.ready === 'message') ok(m)
      })
      child.once('exit', onEarlyExit)
      if (typeof this.spec.ready === 'function') void this.#poll(child, this.spec.ready).then((up) => { if (up) ok({ type: 'ready' }) })
    })
  }

  async #poll(child: ChildProcess, probe: () => Promise<boolean>): Promise<boolean> {
    while (child.exitCode === null && child.signalCode === null && !this.#stopping) {
      if (await probe().catch(() => false)) return true
      await new Promise((r) => setTimeout(r, 100))
    }
    return false
  }

  #spawn(): ChildProcess {
    const script = this.spec.script.startsWith('file:') ? fileURLToPath(this.spec.script) : this.spec.script
    const child = spawn(process.execPath, [...(this.spec.nodeArgs ?? []), ...nodeArgs(), '--import', TSX, script, ...(this.spec.args ?? [])], {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#child = child
    this.#startedAt = Date.now()
    child.once('exit', (code, signal) => this.#onExit(child, code, signal))
    return child
  }

  #onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.#stopping || child !== this.#child || !this.#wasReady) return
    // A part that ran a while before dying starts over at the shortest back-off.
    if (Date.now() - this.#startedAt > STABLE_MS) this.#delay = this.#o.restartDelay
    const delay = this.#delay
    this.#delay = Math.min(this.#delay * 2 || 1, this.#o.maxRestartDelay)
    this.#o.report(`${this.spec.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`)
    this.#timer = setTimeout(() => {
      if (this.#stopping) return
      this.spec.beforeRestart?.(this.spec)
      this.start().then(
        () => { this.restarts++; this.#o.report(`${this.spec.name} restarted (pid ${this.pid})`) },
        (e: Error) => this.#o.report(`${this.spec.name} failed to restart: ${e.message}`),
      )
    }, delay)
  }

  /** From now on an exit is expected: no restart. */
  stopping(): void {
    this.#stopping = true
    clearTimeout(this.#timer)
  }

  /** Sends a signal to the running child (SIGHUP: reload). */
  signal(sig: NodeJS.Signals): void {
    const c = this.#child
    if (c && c.exitCode === null && c.signalCode === null) c.kill(sig)
  }

  /** Graceful stop: SIGTERM, then SIGKILL after `timeout` ms. Resolves once the child is gone. */
  stop(timeout: number): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#timer)
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      const kill = setTimeout(() => {
        this.#o.report(`${this.spec.name} (pid ${child.pid}) did not stop within ${timeout} ms; killing it`)
        child.kill('SIGKILL')
      }, timeout)
      child.once('exit', () => { clearTimeout(kill); resolve() })
      child.kill('SIGTERM')
    })
  }
}
