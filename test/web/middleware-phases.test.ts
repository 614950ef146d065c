// Phased middleware (Middleware.phases): the framework runs neighbouring phased layers in one
// promise reaction (middleware.ts PhasedRun), which must be observably the same as the `wrap` the
// contract says a phased middleware is: same order of phases, same boundaries (an error becomes a
// response at its own layer, the layers above see it), same short-circuits.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { Client } from '../../src/web/test-client.ts'
import { text, HttpResponse } from '../../src/web/response.ts'
import { HttpRequest } from '../../src/web/request.ts'
import { HttpError } from '../../src/web/http-error.ts'
import { createApp } from '../../src/web/app.ts'
import { memoryLogger } from '../../src/web/log.ts'
import { configureJourney, createSampler, MemorySink } from '../../src/journey/index.ts'
import { testApp, stubResolver } from './support.ts'
import type { Middleware, MiddlewarePhases } from '../../src/web/types.ts'

/**
 * A phased layer driven by the query: `?<name>=<what>` makes it throw, reject, short-circuit or
 * give junk in one of its phases. Both phases write to `trace` and the response phase appends
 * the layer's name to `x-trace`.
 */
function phased(name: string, trace: string[]): Middleware {
  return {
    name,
    phases: (): MiddlewarePhases => ({
      request(req) {
        trace.push(`${name}:request`)
        switch (req.query.get(name)) {
          case 'throw-request': throw new Error(`${name} threw in its request phase`)
          case 'reject-request': return Promise.reject(new HttpError(409, `${name} rejected its request phase`))
          case 'short': return text(`${name} answered`, { status: 403 })
          case 'async-short': return Promise.resolve(text(`${name} answered later`, { status: 402 }))
          case 'async-nothing': return Promise.resolve(undefined)
          case 'junk-request': return 42 as never
        }
        return undefined
      },
      response(req, res) {
        trace.push(`${name}:response(${res.status})`)
        switch (req.query.get(name)) {
          case 'throw-response': throw new HttpError(418, `${name} threw in its response phase`)
          case 'reject-response': return Promise.reject(new Error(`${name} rejected its response phase`))
          case 'junk-response': return undefined as never
          case 'async-response': return Promise.resolve(res.appendHeader('x-trace', name))
          case 'replace': return text(`${name} replaced it`, { status: 201 }).setHeader('x-trace', res.headers['x-trace'] ?? '').appendHeader('x-trace', name)
        }
        return res.appendHeader('x-trace', name)
      },
    }),
  }
}

/** The `wrap` the contract says a phased middleware is (types.ts MiddlewarePhases). */
function asWrap(mw: Middleware): Middleware {
  return {
    name: mw.name,
    wrap: (next, settings) => {
      const p = mw.phases!(settings)!
      return async (req) => {
        const r = await p.request?.(req)
        if (r) return r
        const res = await next(req)
        return p.response ? p.response(req, res) : res
      }
    },
  }
}

/** A wrapped layer between phased ones (splits them into two runs). */
function wrapped(name: string, trace: string[]): Middleware {
  return {
    name,
    wrap: (next) => async (req) => {
      trace.push(`${name}:request`)
      if (req.query.get(name) === 'throw-request') throw new Error(`${name} threw`)
      const res = await next(req)
      trace.push(`${name}:response(${res.status})`)
      return res.appendHeader('x-trace', name)
    },
  }
}

const view = (trace: string[]) => (req: HttpRequest) => {
  trace.push('view')
  if (req.query.has('boom')) throw new Error('view exploded')
  return text('ok')
}

const SCENARIOS = [
  '', 'boom',
  'A=throw-request', 'C=throw-request', 'D=throw-request', 'B=throw-request',
  'A=reject-request', 'D=reject-request',
  'A=short', 'C=short', 'D=short', 'C=async-short', 'D=async-nothing',
  'C=throw-response', 'D=throw-response', 'A=throw-response',
  'C=reject-response', 'D=junk-response', 'A=junk-response', 'D=async-response', 'C=replace',
  'D=throw-response&C=throw-response', 'D=short&C=replace', 'D=async-nothing&boom',
]

test('phased layers in one run behave exactly as their wrap: phases in order, boundaries per layer, short-circuits', async () => {
  const trace: string[] = []
  const stack = (): Middleware[] => [phased('A', trace), wrapped('B', trace), phased('C', trace), phased('D', trace)]
  const fused = testApp([{ route: 'x/', view: view(trace) }], { middleware: stack() })
  const reference = testApp([{ route: 'x/', view: view(trace) }], { middleware: stack().map((m) => (m.phases ? asWrap(m) : m)) })
  const cf = new Client(fused.app)
  const cr = new Client(reference.app)
  try {
    for (const q of SCENARIOS) {
      const seen = []
      for (const [c, app] of [[cf, fused.app], [cr, reference.app]] as const) {
        trace.length = 0
        const r = await c.get(`/x/?${q}`)
        const viaHandle = { status: r.status, trace: [...trace], xTrace: r.headers['x-trace'] }
        // app.fetch takes the onion's handler (app.run), not the node:http ending.
        trace.length = 0
        const f = await app.fetch(new Request(`http://localhost/x/?${q}`))
        assert.deepEqual({ status: f.status, trace: [...trace], xTrace: f.headers.get('x-trace') ?? undefined }, viaHandle, `?${q}: fetch and handle agree`)
        seen.push(viaHandle)
      }
      assert.deepEqual(seen[0], seen[1], `?${q}: phased and wrapped agree`)
    }
  } finally {
    await cf.close()
    await cr.close()
  }
  // Spot checks of what the scenarios mean.
  trace.length = 0
  const c = new Client(fused.app)
  try {
    const short = await c.get('/x/?C=short')
    assert.equal(short.status, 403)
    assert.deepEqual(trace, ['A:request', 'B:request', 'C:request', 'B:response(403)', 'A:response(403)'], "C's own response phase is skipped")
    trace.length = 0
    const failed = await c.get('/x/?D=throw-response')
    assert.equal(failed.status, 418)
    assert.deepEqual(trace, ['A:request', 'B:request', 'C:request', 'D:request', 'view', 'D:response(200)', 'C:response(418)', 'B:response(418)', 'A:response(418)'])
    assert.equal(failed.headers['x-trace'], 'C, B, A', "D's error response is made at D's boundary")
    const junk = await c.get('/x/?D=junk-response')
    assert.equal(junk.status, 500)
    assert.match(String((fused.logger.records.at(-1)!.error as Error).message), /Middleware 'D': its response phase returned undefined instead of an HttpResponse/)
    const junkRequest = await c.get('/x/?C=junk-request')
    assert.equal(junkRequest.status, 500)
    assert.match(String((fused.logger.records.at(-1)!.error as Error).message), /Middleware 'C': its request phase returned number/)
  } finally {
    await c.close()
  }
})

test('phases() runs once, innermost first with wrap(); null means not used; a bad phases() is a ConfigError', async () => {
  const calls: string[] = []
  const mw = (name: string, form: 'phases' | 'wrap' | 'off'): Middleware =>
    form === 'wrap'
      ? { name, wrap: (next) => { calls.push(name); return next } }
      : { name, phases: () => { calls.push(name); return form === 'off' ? null : { response: (_req, res) => res.appendHeader('x-used', name) } }, view: () => { calls.push(`${name}:view`) } }
  const { app } = testApp([{ route: 'x/', view: () => text('ok') }], { middleware: [mw('a', 'phases'), mw('b', 'wrap'), mw('c', 'off'), mw('d', 'phases')] })
  assert.deepEqual(calls, ['d', 'c', 'b', 'a'])
  assert.deepEqual(app.middleware.map((m) => m.name), ['a', 'b', 'd'])
  const c = new Client(app)
  try {
    const r = await c.get('/x/')
    assert.equal(r.headers['x-used'], 'd, a')
    assert.deepEqual(calls.slice(4), ['a:view', 'd:view'], "the unused layer's hooks are skipped")
  } finally {
    await c.close()
  }
  const base = { urls: stubResolver([]), env: {}, logger: memoryLogger(), settings: { SECRET_KEY: 'k' } }
  assert.throws(() => createApp({ ...base, middleware: [{ name: 'x', phases: () => ({ response: 'nope' }) } as never] }), { code: 'CW_ERR_CONFIG', message: /app\.middleware\[0\] \(x\).*phases\(\) returned/ })
  assert.throws(() => createApp({ ...base, middleware: [{ name: 'x', phases: () => 42 } as never] }), { code: 'CW_ERR_CONFIG', message: /phases\(\) returned number/ })
  assert.throws(() => createApp({ ...base, middleware: [{ name: 'x', wrap: (n: never) => n, phases: () => ({}) } as never] }), { code: 'CW_ERR_CONFIG', message: /\{ name, wrap\(next, settings\) \} or \{ name, phases\(settings\) \}/ })
  assert.throws(() => createApp({ ...base, middleware: [{ name: 'x' } as never] }), { code: 'CW_ERR_CONFIG', message: /app\.middleware\[0\]/ })
})

test('concurrent requests through one run each get their own response (async phases in between)', async () => {
  const later = (n: number) => new Promise((r) => setTimeout(r, n % 5))
  const slow = (name: string): Middleware => ({
    name,
    phases: () => ({
      request: (req) => later(Number(req.query.get('n'))).then(() => undefined),
      response: (req, res) => (Number(req.query.get('n')) % 2 ? later(Number(req.query.get('n')) + 1).then(() => res.appendHeader('x-layers', name)) : res.appendHeader('x-layers', name)),
    }),
  })
  const { app } = testApp([{ route: 'x/', view: async (req: HttpRequest) => { await later(Number(req.query.get('n')) + 2); return text(`view ${req.query.get('n')}`) } }], {
    middleware: [slow('outer'), slow('middle'), slow('inner')],
  })
  const c = new Client(app)
  try {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => c.get(`/x/?n=${n}`)))
    answers.forEach((res, n) => {
      assert.equal(res.text, `view ${n}`)
      assert.equal(res.headers['x-layers'], 'inner, middle, outer')
    })
  } finally {
    await c.close()
  }
})

/** Promises created while `app.run` answers one request (the journey off). */
async function promisesPerRequest(middleware: Middleware[]): Promise<number> {
  const { app } = testApp([{ route: 'x/', view: async () => text('ok') }], { middleware })
  const request = () => {
    const raw = new IncomingMessage(new Socket())
    raw.method = 'GET'
    raw.url = '/x/'
    raw.headers = { host: 'localhost' }
    raw.rawHeaders = ['Host', 'localhost']
    raw.push(null)
    return new HttpRequest(raw, app.runtime)
  }
  assert.equal((await app.run(request())).status, 200)
  // The fewest of a few tries: anything else the process does meanwhile (an earlier test's sockets
  // closing) is counted too.
  let fewest = Infinity
  for (let i = 0; i < 5; i++) {
    let n = 0
    const hook = createHook({ init(_id, type) { if (type === 'PROMISE') n++ } })
    const req = request()
    hook.enable()
    const res = await app.run(req)
    hook.disable()
    assert.equal(res.status, 200)
    fewest = Math.min(fewest, n)
  }
  return fewest
}

test('neighbouring phased layers cost no promise each (one reaction for all their response phases)', async () => {
  const noop = (name: string): Middleware => ({ name, phases: () => ({ request: () => undefined, response: (_req, res) => res }) })
  const one = await promisesPerRequest([noop('a')])
  const eight = await promisesPerRequest(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(noop))
  assert.equal(eight, one)
  // A wrapped layer with no response phase (it hands back next()'s promise) needs no boundary either.
  const passing: Middleware = { name: 'passing', wrap: (next) => (req) => next(req) }
  assert.equal(await promisesPerRequest([passing, passing, passing]), await promisesPerRequest([]))
})

test('a recorded request still gets one span per phased middleware, with both phases marked', async () => {
  const sink = new MemorySink()
  const trace: string[] = []
  const { app } = testApp([{ route: 'x/', view: view(trace) }], {
    middleware: [phased('A', trace), phased('C', trace), wrapped('B', trace), phased('D', trace)],
  })
  configureJourney({ enabled: true, sampler: createSampler('always', 1), sinks: [sink] })
  const c = new Client(app)
  try {
    const r = await c.get('/x/')
    assert.equal(r.headers['x-trace'], 'D, B, C, A')
    const r2 = await c.get('/x/?C=short')
    assert.equal(r2.status, 403)
  } finally {
    await c.close()
    configureJourney({ enabled: false })
  }
  const spans = sink.spans
  const traces = [...new Set(spans.map((s) => s.traceId))]
  assert.equal(traces.length, 2)
  const of = (t: string, name: string) => {
    const found = spans.filter((s) => s.traceId === t && s.name === name)
    assert.equal(found.length, 1, `${name} in ${t}`)
    return found[0]!
  }
  const [full, short] = traces as [string, string]
  const names = ['A', 'C', 'B', 'D']
  names.forEach((name, i) => {
    const span = of(full, `middleware ${name}`)
    if (i > 0) assert.equal(span.parentSpanId, of(full, `middleware ${names[i - 1]}`).spanId, `${name} nests in the layer above`)
    assert.deepEqual(span.events.map((e) => e.name), ['request-phase-end', 'response-phase-start'], `${name}: both phases marked`)
    assert.deepEqual(span.attributes['causeway.middleware.headers_set'], ['x-trace'], `${name}: its response phase set x-trace`)
  })
  assert.equal(of(short, 'middleware C').attributes['causeway.middleware.short_circuit'], true)
  assert.equal(spans.filter((s) => s.traceId === short && s.name === 'middleware B').length, 0)
})
