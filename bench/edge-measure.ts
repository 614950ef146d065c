// Shared by bench/edge-static.ts and bench/edge-proxy.ts: wrk runs, CPU accounting of a server's
// whole process tree (so nginx's master + workers and a node:cluster primary + workers are counted
// alike), free ports and small process helpers. Linux only (/proc).
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'

export function argOpt(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? dflt : args[i + 1]!
}

export function have(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** pid and every descendant, from /proc/<pid>/stat's ppid field. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8')
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(d))
      children.set(ppid, list)
    } catch { /* gone */ }
  }
  const out: number[] = []
  const walk = (p: number) => { out.push(p); for (const c of children.get(p) ?? []) walk(c) }
  walk(root)
  return out
}

/** CPU nanoseconds used so far by a process tree (every thread: /proc/<pid>/task/<tid>/schedstat). */
export function treeCpuNs(root: number): number {
  let ns = 0
  for (const pid of tree(root)) {
    let tids: string[] = []
    try { tids = readdirSync(`/proc/${pid}/task`) } catch { continue }
    for (const t of tids) {
      try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]) } catch { /* gone */ }
    }
  }
  return ns
}

export interface WrkResult { rps: number; requests: number; cpuUsPerReq: number; non2xx: number; errors: number; raw: string }

/**
 * One wrk run against `url`, with the CPU the server's process tree (`pid`) used meanwhile.
 * @example const r = wrk(url, ng.pid!, { duration: 5, connections: 64, threads: 2 })
 */
export function wrk(url: string, pid: number, o: { duration: number; connections: number; threads: number; headers?: string[]; warmup?: number }): WrkResult {
  const hdr = (o.headers ?? []).flatMap((h) => ['-H', h])
  if (o.warmup !== 0) execFileSync('wrk', ['-t', '1', '-c', String(o.connections), '-d', `${o.warmup ?? 1}s`, ...hdr, url], { encoding: 'utf8' })
  const before = treeCpuNs(pid)
  const raw = execFileSync('wrk', ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.duration}s`, ...hdr, url], { encoding: 'utf8' })
  const used = treeCpuNs(pid) - before
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? 0)
  const requests = Number(/(\d+) requests in/.exec(raw)?.[1] ?? 0)
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(raw)?.[1] ?? 0)
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw)
  const errors = se ? se.slice(1).reduce((a, x) => a + Number(x), 0) : 0
  return { rps, requests, cpuUsPerReq: requests ? used / 1000 / requests : 0, non2xx, errors, raw }
}

/** Waits until `url` answers (any status), up to `ms`. */
export async function waitUp(url: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try { await (await fetch(url)).arrayBuffer(); return } catch { /* not yet */ }
    if (Date.now() > until) throw new Error(`${url} did not come up`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Waits until a server started with stdout piped printed `listening` `n` times: every worker of
 * a cluster must be up before the load, or its start-up CPU would be counted.
 */
export async function allListening(child: ChildProcess, n: number, ms = 60_000): Promise<void> {
  let out = ''
  child.stdout!.on('data', (d) => { out += d })
  const until = Date.now() + ms
  while ((out.match(/listening/g) ?? []).length < n) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`a server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Stops a started server and waits for it (TERM, KILL after 5 s). */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const done = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 5000)
  await done
  clearTimeout(t)
}

export interface Row { name: string; rps: number[]; cpu: number[]; non2xx: number; errors: number }

/**
 * Best requests/s and lowest CPU µs/request of the rounds: load from elsewhere only ever lowers
 * the one and raises the other (cache and scheduler contention), so the best round is the
 * fairest reading on a busy machine.
 */
export function summarize(rows: Row[]): { name: string; rps: number; cpu: number; rounds: string; bad: number }[] {
  return rows.map((r) => ({
    name: r.name, rps: Math.max(...r.rps), cpu: Math.min(...r.cpu), bad: r.non2xx + r.errors,
    rounds: r.rps.map((x, i) => `${x.toFixed(0)}/${r.cpu[i]!.toFixed(0)}µs`).join(', '),
  }))
}
