// The master under real load on loopback: kill -9 of a worker, HUP, TERM, TTIN/TTOU.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { startServer, childPids } from './support/server-process.ts'
import { startLoad, rawRequest } from './support/load.ts'

const show = (s: object): string => JSON.stringify(s, (_, v) => (v instanceof Set ? [...v] : v))

test('kill -9 of a worker under load: it is replaced and only its in-flight requests fail', { timeout: 60_000 }, async () => {
  const srv = await startServer({ args: ['-w', '2'] })
  try {
    // A connection the cluster master was handing to the victim at the kill is never answered:
    // it is one of the victim's in-flight requests, so let it fail fast.
    const load = startLoad(srv.port, { connections: 6, requestTimeoutMs: 2500 })
    await load.progress(200)
    const [victim] = srv.readyPids()
    const mark = srv.log().length
    process.kill(victim!, 'SIGKILL')
    await srv.waitFor(/Worker ready \(pid: (\d+)\)/, 20_000, mark)
    await load.progress(200)
    const stats = await load.stop()
    // Each connection has at most one request in flight; only those on the victim can fail.
    assert.ok(stats.failed <= 6, `failures ${show(stats)}`)
    assert.ok(stats.ok >= 400)
    const now = await childPids(srv.proc.pid!)
    assert.equal(now.length, 2, 'two workers again')
    assert.ok(!now.includes(victim!), 'the killed worker is gone')
    assert.match(srv.log(), new RegExp(`Worker \\(pid: ${victim}\\) exited unexpectedly \\(signal SIGKILL\\)`))
  } finally {
    await srv.stop()
  }
})

for (const accept of ['master', 'shared'] as const) test(`HUP under continuous load (accept: ${accept}): zero failed requests and every worker replaced`, { timeout: 60_000 }, async () => {
  // New workers need 0.5 s in ready(); a request reaching one earlier would get a 503 (a failure).
  const srv = await startServer({ args: ['-w', '2', '--accept', accept], env: { APP_READY_DELAY: '500' } })
  try {
    const load = startLoad(srv.port, { connections: 6 })
    // New connections all the time: they would reach a new worker the moment it listened.
    const fresh = startLoad(srv.port, { connections: 2, oneShot: true })
    await load.progress(200)
    await fresh.progress(20)
    const before = await childPids(srv.proc.pid!)
    assert.equal(before.length, 2)
    const mark = srv.log().length
    srv.proc.kill('SIGHUP')
    // Both old workers drained and exited.
    for (const pid of before) await srv.waitFor(new RegExp(`Worker exiting \\(pid: ${pid}, reload\\)`), 30_000, mark)
    await load.progress(300)
    await fresh.progress(60)
    const stats = await load.stop()
    const freshStats = await fresh.stop()
    // Kept-alive connections may all land on whichever new worker listened first; the one-shot
    // connections keep arriving, so between them every new worker is reached.
    const served = new Set([...stats.pids, ...freshStats.pids])
    assert.equal(stats.failed, 0, `no failures: ${show(stats)}`)
    assert.equal(freshStats.failed, 0, `no failures on new connections: ${show(freshStats)}`)
    const after = await childPids(srv.proc.pid!)
    assert.equal(after.length, 2)
    for (const pid of before) assert.ok(!after.includes(pid), 'all workers replaced')
    // With a shared socket the kernel picks who accepts: one new worker may take every connection.
    if (accept === 'master') for (const pid of after) assert.ok(served.has(pid), `new worker ${pid} served requests`)
    else assert.ok(after.some((pid) => served.has(pid)), 'the new workers served requests')
  } finally {
    await srv.stop()
  }
})

test('TERM under load: in-flight requests complete, new connections are refused, exit within gracefulTimeout', { timeout: 60_000 }, async () => {
  const srv = await startServer({ args: ['-w', '2', '--graceful-timeout', '6s'] })
  try {
    // Slow requests in flight on both workers.
    const slow = Array.from({ length: 6 }, () => rawRequest(srv.port, 'GET /slow?ms=1500 HTTP/1.1\r\nHost: t\r\n\r\n', { timeoutMs: 10_000 }))
    await new Promise((r) => setTimeout(r, 300)) // let them reach the workers (the slow handler runs 1.5 s)
    const t0 = Date.now()
    srv.proc.kill('SIGTERM')
    // Both workers stop accepting almost at once; a new connection is then refused.
    let refused = false
    for (let i = 0; i < 100 && !refused; i++) {
      refused = await new Promise<boolean>((resolve) => {
        const c = net.connect(srv.port, '127.0.0.1')
        c.on('connect', () => { c.destroy(); resolve(false) })
        c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'))
      })
      if (!refused) await new Promise((r) => setTimeout(r, 20))
    }
    assert.ok(refused, 'new connections are refused while draining')
    const results = await Promise.all(slow)
    for (const r of results) {
      assert.match(r.text, /^HTTP\/1\.1 200 /, `in-flight request completed: ${JSON.stringify(r)}`)
      assert.match(r.text, /\r\nConnection: close\r\n/i, 'and told the client the connection closes')
      assert.equal(r.closed, true)
    }
    const { code } = await srv.exited
    assert.equal(code, 0)
    assert.ok(Date.now() - t0 < 6000, 'exited within gracefulTimeout')
  } finally {
    await srv.stop()
  }
})

test('TTIN adds a worker, TTOU removes one', { timeout: 60_000 }, async () => {
  const srv = await startServer({ args: ['-w', '1'] })
  try {
    let mark = srv.log().length
    srv.proc.kill('SIGTTIN')
    await srv.waitFor(/Worker ready/, 20_000, mark)
    assert.equal((await childPids(srv.proc.pid!)).length, 2)
    mark = srv.log().length
    srv.proc.kill('SIGTTOU')
    await srv.waitFor(/Worker exiting \(pid: \d+, scale-down\)/, 20_000, mark)
    assert.equal((await childPids(srv.proc.pid!)).length, 1)
    const r = await rawRequest(srv.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    assert.match(r.text, /^HTTP\/1\.1 200 /)
  } finally {
    await srv.stop()
  }
})

test('INT is a quick stop: workers run workerInt and exit at once, in-flight requests are cut', { timeout: 60_000 }, async () => {
  const { tmpdir } = await import('node:os')
  const { readFileSync } = await import('node:fs')
  const hookLog = `${tmpdir()}/cw-int-${process.pid}-${Date.now()}.log`
  const srv = await startServer({
    args: ['-w', '2'],
    env: { HOOK_LOG: hookLog },
    config: `import { appendFileSync } from 'node:fs'
export default { server: { hooks: { workerInt: (w) => appendFileSync(process.env.HOOK_LOG, 'workerInt ' + process.pid + '\\n') } } }
`,
  })
  try {
    const pids = srv.readyPids()
    const slow = rawRequest(srv.port, 'GET /slow?ms=20000 HTTP/1.1\r\nHost: t\r\n\r\n', { timeoutMs: 25_000 })
    await new Promise((r) => setTimeout(r, 200))
    const t0 = Date.now()
    srv.proc.kill('SIGINT')
    const { code } = await srv.exited
    assert.equal(code, 0)
    assert.ok(Date.now() - t0 < 5000, 'quick')
    const r = await slow
    assert.equal(r.closed, true)
    assert.doesNotMatch(r.text, /200 OK/)
    const lines = readFileSync(hookLog, 'utf8').trim().split('\n').sort()
    assert.deepEqual(lines, pids.map((p) => `workerInt ${p}`).sort())
  } finally {
    await srv.stop()
  }
})
