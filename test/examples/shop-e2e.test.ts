// Issue 8's "done when": `causeway up` on a fresh copy of examples/shop (the `npm start` path:
// no SECRET_KEY, no DATABASE_URL, no REDIS_URL — SQLite and a generated local secret under the
// copy's .causeway/), then Chromium logs in as john, opens /products/wireless-headphones/, sees
// name and price and adds it to the cart, while one app worker is killed with SIGKILL; then that
// request's journey is read back from the edge's dashboard API and holds spans from the edge,
// firewall, worker, middleware, view, SQL and template.
//
// The copy lives in a temp dir whose node_modules/causeway links to this checkout, so the repo's
// examples/shop is never written to at test time.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import type { Browser, BrowserContext } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'
const ROOT = new URL('../../', import.meta.url).pathname
const SHOP = join(ROOT, 'examples/shop')
const PASSWORD = 'john-e2e-password-7'
const STAFF = { username: 'ops', password: 'ops-e2e-password-9' }
const HAS_UP = existsSync(join(ROOT, 'src/cli/commands/up.ts'))
const skip = !HAS_UP ? 'causeway up is not merged yet (src/cli/commands/up.ts)' : !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed` : false

let tmp = ''
let project = ''
let up: ChildProcess | undefined
let output = ''
let http = ''
let https = ''
let journey = ''
let appServerPid = 0
let browser: Browser | undefined
/** The trace id of the product page request (from its traceresponse header). */
let productTrace = ''

/** Resolves with the first match of `re` in up's output (stdout + stderr), or rejects on exit/timeout. */
function waitForOutput(re: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = re.exec(output)
      if (m) { cleanup(); resolve(m) }
    }
    const onExit = (code: number | null) => { cleanup(); reject(new Error(`causeway up exited (${code}) before ${re}:\n${output}`)) }
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${re} within ${ms} ms:\n${output}`)) }, ms)
    const cleanup = () => { clearTimeout(timer); up!.stdout!.off('data', check); up!.stderr!.off('data', check); up!.off('exit', onExit) }
    up!.stdout!.on('data', check)
    up!.stderr!.on('data', check)
    up!.once('exit', onExit)
    check()
  })
}

/** The app server's live workers: its children that it logged as workers (tsx's esbuild
 * service is a child too, and is not one). */
function workerPids(masterPid: number): number[] {
  const logged = new Set([...output.matchAll(/Booting worker with pid: (\d+)/g)].map((m) => Number(m[1])))
  return childPids(masterPid).filter((pid) => logged.has(pid))
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0)
  } catch {
    return [] // ps exits 1 when there are none
  }
}

/** Polls (another process's state has no event to await) until `fn` returns a value. */
async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- causeway up output ---\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

before(async () => {
  if (skip) return
  tmp = mkdtempSync(join(tmpdir(), 'shop-e2e-'))
  project = join(tmp, 'shop')
  cpSync(SHOP, project, { recursive: true, filter: (src) => !src.includes('/.causeway') })
  // A project of its own, as after `npm install causeway`: an ESM package.json (without it tsx
  // compiles the project as CommonJS and `causeway/*` would load a second copy of the framework).
  writeFileSync(join(tmp, 'package.json'), JSON.stringify({ name: 'shop-e2e', private: true, type: 'module' }))
  mkdirSync(join(tmp, 'node_modules'))
  symlinkSync(ROOT.replace(/\/$/, ''), join(tmp, 'node_modules', 'causeway'), 'dir')
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HTTPS_PORT: '0', CAUSEWAY_DEMO_PASSWORD: PASSWORD }
  for (const k of ['SECRET_KEY', 'DATABASE_URL', 'REDIS_URL', 'CAUSEWAY_DATA_DIR', 'DEBUG', 'ALLOWED_HOSTS', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'CAUSEWAY_JOURNEY']) delete env[k]
  // Its own process group, so the after() hook can end every part if up itself hangs.
  up = spawn(process.execPath, [join(ROOT, 'bin/causeway.js'), 'up', project], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  up.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s })
  up.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s })
  const ready = await waitForOutput(/causeway up: (http:\/\/\S+)(?: (https:\/\/\S+))? journey (\S+)/, 120_000)
  http = ready[1]!
  https = ready[2] ?? ''
  journey = ready[3]!
  appServerPid = Number(/app server ready on \S+ \(pid (\d+)\)/.exec(output)?.[1])

  // A staff user, for the journey dashboard (john is not staff). Straight into the copy's SQLite
  // database, which up created; WAL lets this process write beside the workers.
  const { connect, setConnection } = await import('../../src/db/index.ts')
  const { createSuperuser } = await import('../../src/web/auth/user.ts')
  setConnection(connect(`sqlite:///${join(project, '.causeway', 'db.sqlite3')}`))
  await createSuperuser({ ...STAFF, email: 'ops@example.com' })

  const { chromium } = await import('playwright-core')
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
})

after(async () => {
  await browser?.close()
  const { closeAll } = await import('../../src/db/index.ts')
  await closeAll()
  if (up && up.exitCode === null && up.signalCode === null) {
    up.kill('SIGINT') // one Ctrl-C stops everything
    const exited = once(up, 'exit')
    const timer = setTimeout(() => { try { process.kill(-up!.pid!, 'SIGKILL') } catch {} }, 40_000)
    await exited
    clearTimeout(timer)
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

async function login(context: BrowserContext, username: string, password: string) {
  const page = await context.newPage()
  await page.goto(`${http}/accounts/login/`)
  await page.fill('#id_username', username)
  await page.fill('#id_password', password)
  await Promise.all([page.waitForURL(`${http}/`), page.click('form.login button[type=submit]')])
  return page
}

test('the fresh project started without a secret or database: local state went to .causeway/', { skip }, () => {
  assert.ok(existsSync(join(project, '.causeway', 'db.sqlite3')), 'SQLite database in the data dir')
  assert.ok(readFileSync(join(project, '.causeway', 'secret_key'), 'utf8').trim().length >= 32, 'generated SECRET_KEY')
  assert.ok(existsSync(join(project, '.causeway', 'static', 'staticfiles.json')), 'collectstatic ran')
  assert.ok(appServerPid > 0, `the app server's pid is printed:\n${output}`)
})

test('Chromium: log in as john, product page, add to cart — while a worker is killed', { skip, timeout: 180_000 }, async () => {
  const context = await browser!.newContext()
  try {
    const page = await login(context, 'john', PASSWORD)
    assert.match(await page.textContent('header.site') ?? '', /Signed in as john/)

    // The hashed stylesheet comes from the edge's static route, cacheable forever.
    const css = await page.getAttribute('link[rel=stylesheet]', 'href')
    assert.match(css ?? '', /^\/static\/css\/shop\.[0-9a-f]{8,}\.css$/)
    const cssResponse = await context.request.get(`${http}${css}`)
    assert.equal(cssResponse.status(), 200)
    assert.match(cssResponse.headers()['cache-control'] ?? '', /immutable/)

    // kill -9 one worker; the master replaces it and the site keeps answering.
    const workers = await until('two workers', () => { const w = workerPids(appServerPid); return w.length >= 2 ? w : undefined })
    const victim = workers[0]!
    process.kill(victim, 'SIGKILL')
    await until(`a replacement for worker ${victim} (workers were ${workers})`, () => {
      const now = workerPids(appServerPid)
      return !now.includes(victim) && now.length >= workers.length ? now : undefined
    }, 60_000)

    // The journey samples a reservoir of new traces a second, then a ratio: if this view was not
    // sampled (no traceresponse), look again in the next second, as a user reloading would.
    let response = await page.goto(`${http}/products/wireless-headphones/`)
    for (let i = 0; i < 5 && !response?.headers().traceresponse; i++) {
      await new Promise(r => setTimeout(r, 1100))
      response = await page.goto(`${http}/products/wireless-headphones/`)
    }
    assert.equal(response?.status(), 200)
    assert.equal(await page.textContent('h1.name'), 'Wireless Headphones')
    assert.equal(await page.textContent('.product-detail .price'), '$199.99')
    const headers = response!.headers()
    assert.equal(headers['x-content-type-options'], 'nosniff')
    assert.match(headers['content-encoding'] ?? '', /^(gzip|br)$/, 'the page is compressed')
    const tr = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(headers.traceresponse ?? '')
    if (tr) productTrace = tr[1]!

    await Promise.all([page.waitForURL(`${http}/cart/`), page.click('button.add')])
    assert.match(await page.textContent('ul.messages') ?? '', /Added Wireless Headphones to your cart\./)
    assert.match(await page.textContent('table.cart') ?? '', /Wireless Headphones/)
    assert.equal(await page.textContent('td.total'), '$199.99')

    // The journey dashboard is staff only (the edge asks the shop's whoami view); john is not staff.
    const denied = await context.request.get(`${journey}/api/traces`)
    assert.equal(denied.status(), 403)

    // Every page of the walk still works after the kill: the list and an unknown product's 404.
    const missing = await page.goto(`${http}/products/no-such-product/`)
    assert.equal(missing?.status(), 404)
    assert.match(await page.textContent('main') ?? '', /Page not found/)
  } finally {
    await context.close()
  }
})

test('the same shop over HTTPS (self-signed certificate, HTTP/2 by ALPN)', { skip, timeout: 60_000 }, async () => {
  assert.match(https, /^https:\/\/127\.0\.0\.1:\d+$/, `up printed an https URL:\n${output}`)
  const context = await browser!.newContext({ ignoreHTTPSErrors: true })
  try {
    const page = await context.newPage()
    const response = await page.goto(`${https}/products/wireless-headphones/`)
    assert.equal(response?.status(), 200)
    assert.equal(await page.textContent('h1.name'), 'Wireless Headphones')
    assert.equal(await page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol'), 'h2')
  } finally {
    await context.close()
  }
})

test("the product page's journey: spans from edge, firewall, worker, middleware, view, SQL, template", { skip, timeout: 120_000 }, async () => {
  assert.ok(productTrace, 'the product page answered with a traceresponse header')
  const context = await browser!.newContext()
  try {
    await login(context, STAFF.username, STAFF.password)
    // Workers export in batches (about once a second): poll until every layer has reported.
    type Span = { name: string; attributes?: Record<string, unknown>; resource?: Record<string, unknown>; service?: string } & Record<string, unknown>
    const layers: Record<string, (s: Span, text: string) => boolean> = {
      edge: (_s, t) => /causeway-edge/.test(t),
      firewall: (s, t) => /firewall/i.test(s.name) || /"firewall\./.test(t),
      worker: (s) => s.name === 'worker' || /^worker\b/.test(s.name),
      middleware: (s) => /^middleware /.test(s.name),
      view: (s) => /^view (?!hook )/.test(s.name),
      sql: (s, t) => /db\.(query\.text|statement)/.test(t) && /products_product/.test(t),
      template: (s) => /^template /.test(s.name),
    }
    let last = ''
    const found = await until('all layers in the journey', async () => {
      const r = await context.request.get(`${journey}/api/traces/${productTrace}`)
      last = `${r.status()} ${(await r.text()).slice(0, 2000)}`
      if (r.status() !== 200) return undefined
      const spans = ((await r.json()) as { spans: Span[] }).spans
      const seen: Record<string, string> = {}
      for (const s of spans) {
        const text = JSON.stringify(s)
        for (const [layer, match] of Object.entries(layers)) if (!seen[layer] && match(s, text)) seen[layer] = s.name
      }
      return Object.keys(seen).length === Object.keys(layers).length ? { seen, spans } : undefined
    }, 60_000).catch((e: Error) => { throw new Error(`${e.message}\nlast answer: ${last}`) })
    assert.match(found.seen.view!, /productDetail|product_detail/)
    assert.match(found.seen.template!, /shop\/product_detail\.html|base\.html/)
    const sql = found.spans.map((s) => JSON.stringify(s)).find((t) => /products_product/.test(t) && /slug/.test(t))
    assert.ok(sql, 'the SELECT by slug is in the journey')
    assert.doesNotMatch(sql!, /wireless-headphones/, 'no parameter values in SQL spans')
    // The seed's trace: the session loaded from the cookie, then request.user attached.
    const statements = found.spans.map((s) => JSON.stringify(s))
    assert.ok(statements.some((t) => /db\.statement[^}]*causeway_session/.test(t)), 'session loaded by a query')
    assert.ok(statements.some((t) => /db\.statement[^}]*auth_user/.test(t)), 'user loaded by a query')
    const names = found.spans.map((s) => s.name)
    const order = ['middleware security', 'middleware session', 'middleware common', 'middleware csrf', 'middleware authentication', 'middleware messages', 'middleware gzip', 'middleware conditionalGet']
    assert.deepEqual(names.filter((n) => order.includes(n)), order, "middleware in Django's order")
  } finally {
    await context.close()
  }
})
