// `edge.workers` > 1: the primary forks that many edge processes (node:cluster) which share the
// listening sockets, like nginx's worker_processes. The primary only supervises: it forwards HUP
// (each worker reloads itself), stops the workers gracefully on TERM/INT, and replaces a worker
// that dies unexpectedly (with a pause when they die faster than they start).
import cluster, { type Worker } from 'node:cluster'

/**
 * How many processes `causeway edge` runs: `edge.workers` (already resolved: "auto" = one per
 * core), except that "auto" means 1 when a `firewall` section keeps its state in process memory
 * (store `memory`, or `auto` without a Redis URL): nginx's limit_req zones are shared by all its
 * workers, per-process counters would multiply every limit by the process count (and the admin
 * endpoint could bind only once). A number given explicitly is honoured.
 * @example edgeProcesses(config.edge, config.firewall, validateEdgeConfig(config.edge, root).workers)
 */
export function edgeProcesses(edge: Record<string, unknown> | undefined, firewall: Record<string, unknown> | undefined, resolved: number, env: NodeJS.ProcessEnv = process.env): { count: number; note?: string } {
  const asked = env.EDGE_WORKERS ?? edge?.workers ?? 'auto'
  if (asked !== 'auto' || !firewall || resolved === 1) return { count: resolved }
  const store = firewall.store ?? 'auto'
  const redis = firewall.redisUrl ?? env.REDIS_URL ?? ''
  if (store === 'memory' || (store === 'auto' && !redis)) {
    return { count: 1, note: 'edge: one process: the firewall keeps its counters in memory (edge.workers "auto"); set firewall.redisUrl to share them, or edge.workers to a number' }
  }
  return { count: resolved }
}

/**
 * Runs in the primary until stopped; resolves with the exit code.
 * @example if (cluster.isPrimary && settings.workers > 1) return superviseWorkers(settings.workers)
 */
export function superviseWorkers(count: number, log: (line: string) => void = console.log): Promise<number> {
  let stopping = false
  let lastSpawn = 0
  const fork = () => {
    const w = cluster.fork()
    lastSpawn = Date.now()
    w.on('exit', (code, signal) => {
      if (stopping) return
      log(`edge: worker ${w.process.pid} exited (${signal ?? code}); starting another`)
      const wait = Date.now() - lastSpawn < 1000 ? 1000 : 0
      setTimeout(() => { if (!stopping) fork() }, wait)
    })
  }
  for (let i = 0; i < count; i++) fork()
  const each = (f: (w: Worker) => void) => { for (const w of Object.values(cluster.workers ?? {})) if (w) f(w) }
  const hup = () => { log('edge: SIGHUP, reloading every worker'); each((w) => w.process.kill('SIGHUP')) }
  process.on('SIGHUP', hup)
  return new Promise((resolve) => {
    const stop = (sig: string) => {
      if (stopping) return
      stopping = true
      process.off('SIGHUP', hup)
      log(`edge: ${sig}, stopping ${Object.keys(cluster.workers ?? {}).length} workers`)
      each((w) => w.process.kill('SIGTERM'))
      const check = () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(0)
        else setTimeout(check, 50)
      }
      check()
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
