// Active health checks (nginx `health_check`, ALB target health): every `interval` each target gets
// `GET path`; `rise` consecutive passes mark it healthy, `fall` consecutive failures unhealthy.
// The checker changes upstream state and nothing else.
import type { UpstreamPool } from './pool.ts'
import type { Upstream } from './upstream.ts'
import type { HealthSettings } from './settings.ts'
import type { UpstreamController } from './h1-exchange.ts'

interface Streak { passes: number; fails: number }

export class HealthChecker {
  readonly pool: UpstreamPool
  settings: HealthSettings
  #streaks = new WeakMap<Upstream, Streak>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = true

  constructor(pool: UpstreamPool, settings: HealthSettings) {
    this.pool = pool
    this.settings = settings
  }

  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  /** Runs one round now (tests and `causeway check` use it); resolves when every check finished. */
  checkNow(): Promise<void> {
    this.#running ??= Promise.all(this.pool.members().map((u) => this.#check(u))).then(() => { this.#running = undefined })
    return this.#running
  }

  #schedule() {
    if (this.#stopped) return
    this.#timer = setTimeout(() => { void this.checkNow().then(() => this.#schedule()) }, this.settings.interval)
    this.#timer.unref()
  }

  async #check(u: Upstream): Promise<void> {
    if (u.draining) return
    const ok = await this.probe(u)
    let streak = this.#streaks.get(u)
    if (!streak) this.#streaks.set(u, (streak = { passes: 0, fails: 0 }))
    if (ok) {
      streak.passes++
      streak.fails = 0
      if (!u.activeHealthy && streak.passes >= this.settings.rise) u.setActiveHealthy(true)
    } else {
      streak.fails++
      streak.passes = 0
      if (u.activeHealthy && streak.fails >= this.settings.fall) u.setActiveHealthy(false)
    }
  }

  /** One check of one target: true when it answered an expected status in time. */
  probe(u: Upstream): Promise<boolean> {
    const { path, timeout, host, expectStatus } = this.settings
    return new Promise<boolean>((resolve) => {
      let status = 0
      let controller: UpstreamController | undefined
      let settled = false
      const done = (ok: boolean) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(ok)
      }
      // Not even connected yet: the check has failed; the request ends by its own timeouts.
      const timer = setTimeout(() => { if (controller) controller.abort(new Error('health check timeout')); else done(false) }, timeout)
      u.transport.dispatch({
        method: 'GET',
        path,
        headers: { host: host || u.transport.hostHeader, 'user-agent': 'causeway-health-check', connection: 'close' },
        body: null,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      }, {
        onRequestStart(c) { controller = c },
        onResponseStart(c, statusCode) { controller = c; status = statusCode },
        // The body is read and dropped, so the connection ends cleanly.
        onResponseData() {},
        chunkReleased: () => true,
        onResponseEnd() { done(expectStatus.some((r) => status >= r.from && status <= r.to)) },
        onResponseError() { done(false) },
      })
    })
  }
}
