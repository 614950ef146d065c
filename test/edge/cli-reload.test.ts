import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir, waitFor } from './front-support.ts'

const BIN = fileURLToPath(new URL('../../bin/causeway.js', import.meta.url))

function configText(body: string, extraRoute = ''): string {
  return `export default {
  edge: {
    listen: [{ port: 0 }],
    accessLog: { format: 'off' },
    routes: [${extraRoute}
      { name: 'version', match: { path: '/version' }, action: { respond: { body: ${JSON.stringify(body)} } } },
    ],
  },
}
`
}

interface Child { proc: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> }

function startCli(t: Parameters<typeof tempDir>[0], args: string[], cwd: string): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout!.on('data', (c) => { out += c })
  proc.stderr!.on('data', (c) => { err += c })
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)))
  t.after(() => { if (proc.exitCode === null) proc.kill('SIGKILL') })
  return { proc, out: () => out, err: () => err, exited }
}

function get(agent: http.Agent, url: string): Promise<{ status: number; text: string; port: number }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode!, text, port: res.socket?.localPort ?? -1 }))
    }).on('error', reject)
  })
}

test('cli: SIGHUP reloads the config file with no failed request and no dropped connection; a bad config is refused', async (t) => {
  const dir = tempDir(t) // not an ES module package: the .ts config loads as CommonJS and must still reload
  const file = join(dir, 'causeway.config.ts')
  writeFileSync(file, configText('one'))
  const child = startCli(t, ['edge', '--config', file], dir)
  await waitFor(() => /listening on (http:\S+)/.test(child.out()), 20_000, 'the edge to listen')
  const url = /listening on (http:\S+)/.exec(child.out())![1]!
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.after(() => agent.destroy())
  const first = await get(agent, `${url}/version`)
  assert.equal(first.text, 'one')

  // Requests keep flowing on one keep-alive connection while the config changes underneath.
  const results: { status: number; text: string; port: number }[] = []
  let stop = false
  const failures: unknown[] = []
  const loop = (async () => {
    while (!stop) {
      try { results.push(await get(agent, `${url}/version`)) } catch (e) { failures.push(e) }
    }
  })()
  await waitFor(() => results.length > 5)
  writeFileSync(file, configText('two', `\n      { name: 'new', match: { path: '/new' }, action: { respond: { status: 201, body: 'new rule' } } },`))
  child.proc.kill('SIGHUP')
  await waitFor(() => child.out().includes('reloaded'), 20_000, 'the reload')
  await waitFor(() => results.at(-1)?.text === 'two', 10_000, 'the new config to answer')
  const newRule = await get(agent, `${url}/new`)
  assert.equal(newRule.status, 201)
  assert.equal(newRule.text, 'new rule')

  // A broken config is rejected with the key named; the running one keeps serving.
  writeFileSync(file, configText('three').replace("accessLog: { format: 'off' }", "accessLog: { format: 'xml' }"))
  child.proc.kill('SIGHUP')
  await waitFor(() => child.err().includes('reload failed'), 20_000, 'the reload to fail')
  assert.match(child.err(), /edge\.accessLog\.format/)
  stop = true
  await loop
  assert.deepEqual(failures, [])
  assert.ok(results.every((r) => r.status === 200 && (r.text === 'one' || r.text === 'two')))
  assert.equal(new Set(results.map((r) => r.port)).size, 1, 'one connection served every request')
  assert.equal((await get(agent, `${url}/version`)).text, 'two')

  child.proc.kill('SIGTERM')
  assert.equal(await child.exited, 0)
  assert.match(child.out(), /closing gracefully/)
})

test('cli: a config error at startup names the key and exits 2; --check validates', async (t) => {
  const dir = tempDir(t) // not an ES module package: the .ts config loads as CommonJS and must still reload
  const file = join(dir, 'causeway.config.ts')
  writeFileSync(file, `export default { edge: { routes: [{ action: { respond: {} } }, { action: { static: { root: './missing' } } }] } }\n`)
  const bad = startCli(t, ['edge', '--config', file], dir)
  assert.equal(await bad.exited, 2)
  assert.match(bad.err(), /edge\.routes\[1\]\.action\.static\.root: no such directory/)
  writeFileSync(file, configText('ok'))
  const check = startCli(t, ['edge', '--check', '--config', file], dir)
  assert.equal(await check.exited, 0)
  assert.match(check.out(), /is valid/)
})

test('cli: edge.workers forks workers sharing the port; HUP reloads each; TERM stops them all', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'causeway.config.ts')
  // Port 0 under node:cluster: the primary binds once and every worker shares that port.
  const text = (body: string) => configText(body).replace('listen: [{ port: 0 }]', 'workers: 2, listen: [{ port: 0 }]')
  writeFileSync(file, text('one'))
  const child = startCli(t, ['edge', '--config', file], dir)
  await waitFor(() => (child.out().match(/listening on/g) ?? []).length === 2, 30_000, 'two workers to listen')
  const ports = new Set([...child.out().matchAll(/listening on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]))
  assert.equal(ports.size, 1)
  const port = [...ports][0]
  const fresh = () => get(new http.Agent({ keepAlive: false }), `http://127.0.0.1:${port}/version`)
  assert.equal((await fresh()).text, 'one')
  writeFileSync(file, text('two'))
  child.proc.kill('SIGHUP')
  await waitFor(() => (child.out().match(/reloaded/g) ?? []).length === 2, 30_000, 'both workers to reload')
  // New connections are spread over both workers: every answer is the new one.
  for (let i = 0; i < 6; i++) assert.equal((await fresh()).text, 'two')
  child.proc.kill('SIGTERM')
  assert.equal(await child.exited, 0)
})

/** The command line of every live node child of `pid` (tsx's esbuild service is not one), from /proc. */
function childArgv(pid: number): string[][] {
  const out: string[][] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean)
      if (ppid === pid && argv[0] === process.execPath) out.push(argv)
    } catch { /* gone meanwhile */ }
  }
  return out
}

test('cli: the serving processes start with edge.nodeArgs; with none missing a single edge serves itself', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'causeway.config.ts')
  // Default nodeArgs, one worker: this node lacks the flag, so one worker is forked with it.
  writeFileSync(file, configText('flags').replace('listen: [{ port: 0 }]', 'workers: 1, listen: [{ port: 0 }]'))
  const child = startCli(t, ['edge', '--config', file], dir)
  await waitFor(() => /listening on (http:\S+)/.test(child.out()), 30_000, 'the edge to listen')
  const url = /listening on (http:\S+)/.exec(child.out())![1]!
  assert.equal((await get(new http.Agent(), `${url}/version`)).text, 'flags')
  const kids = childArgv(child.proc.pid!)
  assert.equal(kids.length, 1, `one forked worker, got ${JSON.stringify(kids)}`)
  assert.ok(kids[0]!.includes('--max-semi-space-size=32'), `the worker runs with the flag: ${kids[0]!.join(' ')}`)
  child.proc.kill('SIGTERM')
  assert.equal(await child.exited, 0)

  // nodeArgs: [] and one worker: nothing to add, the process serves itself (no child).
  writeFileSync(file, configText('plain').replace('listen: [{ port: 0 }]', 'workers: 1, nodeArgs: [], listen: [{ port: 0 }]'))
  const plain = startCli(t, ['edge', '--config', file], dir)
  await waitFor(() => /listening on (http:\S+)/.test(plain.out()), 30_000, 'the edge to listen')
  assert.deepEqual(childArgv(plain.proc.pid!), [])
  plain.proc.kill('SIGTERM')
  assert.equal(await plain.exited, 0)
})
