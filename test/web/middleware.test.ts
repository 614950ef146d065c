import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '../../src/web/test-client.ts'
import { text, HttpResponse } from '../../src/web/response.ts'
import { HttpError } from '../../src/web/http-error.ts'
import { createApp } from '../../src/web/app.ts'
import { memoryLogger } from '../../src/web/log.ts'
import { testApp, stubResolver } from './support.ts'
import type { Middleware } from '../../src/web/types.ts'
import type { HttpRequest } from '../../src/web/request.ts'

/** A middleware that records both phases and optional hooks into `trace`. */
function tracer(name: string, trace: string[], extra: Partial<Middleware> = {}): Middleware {
  return {
    name,
    wrap: (next) => async (req) => {
      trace.push(`${name}:request`)
      const res = await next(req)
      trace.push(`${name}:response(${res.status})`)
      res.appendHeader('x-trace', name)
      return res
    },
    ...extra,
  }
}

const view = (trace: string[]) => (req: HttpRequest, params: Record<string, unknown>) => {
  trace.push(`view(${JSON.stringify(params)})`)
  if (req.query.has('boom')) throw new Error('view exploded')
  if (req.query.has('gone')) throw new HttpError(410, 'gone away')
  return text('ok')
}

test('request phase top-down, response phase bottom-up; view hooks top-down see view and params; wrap once', async () => {
  const trace: string[] = []
  let wraps = 0
  const counting: Middleware = { name: 'counting', wrap: (next) => { wraps++; return next } }
  const v = view(trace)
  const hooks = (name: string): Partial<Middleware> => ({
    view: (_req, fn, params) => { trace.push(`${name}:view(${fn === v}, ${JSON.stringify(params)})`) },
  })
  const { app } = testApp([{ route: 'item/<id>/', view: v }], {
    middleware: [tracer('A', trace, hooks('A')), counting, tracer('B', trace, hooks('B')), tracer('C', trace)],
  })
  const c = new Client(app)
  try {
    const r = await c.get('/item/7/')
    assert.equal(r.status, 200)
    assert.deepEqual(trace, [
      'A:request', 'B:request', 'C:request',
      'A:view(true, {"id":"7"})', 'B:view(true, {"id":"7"})',
      'view({"id":"7"})',
      'C:response(200)', 'B:response(200)', 'A:response(200)',
    ])
    assert.equal(r.headers['x-trace'], 'C, B, A')
    await c.get('/item/8/')
    assert.equal(wraps, 1)
  } finally {
    await c.close()
  }
})

test('a short-circuit skips the layers below and the view, and still passes back out through the layers above', async () => {
  const trace: string[] = []
  const gate: Middleware = {
    name: 'gate',
    wrap: (next) => async (req) => {
      trace.push('gate:request')
      if (req.query.has('deny')) return text('denied', { status: 403 })
      return next(req)
    },
  }
  const { app } = testApp([{ route: 'x/', view: view(trace) }], { middleware: [tracer('A', trace), gate, tracer('C', trace)] })
  const c = new Client(app)
  try {
    const r = await c.get('/x/?deny')
    assert.equal(r.status, 403)
    assert.deepEqual(trace, ['A:request', 'gate:request', 'A:response(403)'])
    assert.equal(r.headers['x-trace'], 'A')
  } finally {
    await c.close()
  }
})

test('a view hook that returns a response skips the later hooks and the view; exception hooks run bottom-up', async () => {
  const trace: string[] = []
  const { app, logger } = testApp([{ route: 'x/', view: view(trace) }], {
    middleware: [
      tracer('A', trace, { exception: (_req, e) => { trace.push(`A:exception(${(e as Error).message})`); return text('A handled', { status: 503 }) } }),
      tracer('B', trace, {
        view: (req) => { trace.push('B:view'); if (req.query.has('cached')) return text('from cache') },
        exception: (_req, e) => { trace.push(`B:exception(${(e as Error).message})`) },
      }),
      tracer('C', trace, { view: () => { trace.push('C:view') } }),
    ],
  })
  const c = new Client(app)
  try {
    const cached = await c.get('/x/?cached')
    assert.equal(cached.text, 'from cache')
    assert.deepEqual(trace, ['A:request', 'B:request', 'C:request', 'B:view', 'C:response(200)', 'B:response(200)', 'A:response(200)'])
    trace.length = 0
    const boom = await c.get('/x/?boom')
    assert.equal(boom.status, 503)
    assert.equal(boom.text, 'A handled')
    assert.deepEqual(trace, [
      'A:request', 'B:request', 'C:request', 'B:view', 'C:view', 'view({})',
      'B:exception(view exploded)', 'A:exception(view exploded)',
      'C:response(503)', 'B:response(503)', 'A:response(503)',
    ])
    assert.equal(logger.records.filter((r) => r.level === 'error').length, 0)
  } finally {
    await c.close()
  }
})

test('view hooks that answer later: awaited in order, an answer skips the rest and the view, a rejection is the error page', async () => {
  const trace: string[] = []
  const { app } = testApp([{ route: 'x/', view: view(trace) }], {
    middleware: [
      tracer('A', trace, { view: (req) => { trace.push('A:view'); if (req.query.has('syncthrow')) throw new Error('hook threw') } }),
      tracer('B', trace, {
        view: async (req) => {
          trace.push('B:view')
          await new Promise((r) => setTimeout(r, 5))
          if (req.query.has('reject')) throw new Error('hook rejected')
          if (req.query.has('later')) return text('from B, later', { status: 202 })
          trace.push('B:view done')
        },
        exception: (_req, e) => { trace.push(`B:exception(${(e as Error).message})`) },
      }),
      tracer('C', trace, { view: (req) => { trace.push('C:view'); if (req.query.has('c')) return Promise.resolve(text('from C')) } }),
    ],
  })
  const c = new Client(app)
  try {
    const plain = await c.get('/x/')
    assert.equal(plain.text, 'ok')
    assert.deepEqual(trace, ['A:request', 'B:request', 'C:request', 'A:view', 'B:view', 'B:view done', 'C:view', 'view({})', 'C:response(200)', 'B:response(200)', 'A:response(200)'])
    trace.length = 0
    const later = await c.get('/x/?later')
    assert.equal(later.status, 202)
    assert.equal(later.text, 'from B, later')
    assert.deepEqual(trace.filter((t) => t.includes(':view') || t.startsWith('view')), ['A:view', 'B:view'])
    trace.length = 0
    assert.equal((await c.get('/x/?c')).text, 'from C', 'a later hook answering with a promise')
    assert.ok(!trace.includes('view({})'))
    trace.length = 0
    const rejected = await c.get('/x/?reject')
    assert.equal(rejected.status, 500)
    assert.ok(!trace.some((t) => t.includes('exception')), 'a failing view hook is not the view failing: no exception hooks')
    assert.ok(!trace.includes('C:view'))
    const threw = await c.get('/x/?syncthrow')
    assert.equal(threw.status, 500)
  } finally {
    await c.close()
  }
})

test('exception hooks without view hooks: a throw, a rejection or a non-response from the view; a failing hook', async () => {
  const trace: string[] = []
  const routes = [
    { route: 'sync/', view: () => { throw new Error('sync threw') } },
    { route: 'async/', view: async () => { throw new Error('async rejected') } },
    { route: 'none/', view: (() => undefined) as never },
    { route: 'ok/', view: async () => text('fine') },
  ]
  const { app, logger } = testApp(routes, {
    middleware: [
      tracer('A', trace, { exception: (_req, e) => { trace.push(`A:exception(${(e as Error).message.slice(0, 20)})`); return text('A handled', { status: 503 }) } }),
      tracer('B', trace, { exception: (req, e) => { if (req.query.has('hookfails')) throw new Error('hook failed'); trace.push(`B:exception(${(e as Error).message.slice(0, 20)})`) } }),
    ],
  })
  const c = new Client(app)
  try {
    for (const [path, msg] of [['/sync/', 'sync threw'], ['/async/', 'async rejected'], ['/none/', "The view for 'none/'"]] as const) {
      trace.length = 0
      const r = await c.get(path)
      assert.equal(r.status, 503, path)
      assert.equal(r.text, 'A handled')
      assert.deepEqual(trace, ['A:request', 'B:request', `B:exception(${msg.slice(0, 20)})`, `A:exception(${msg.slice(0, 20)})`, 'B:response(503)', 'A:response(503)'], path)
    }
    assert.equal((await c.get('/ok/')).text, 'fine')
    const failed = await c.get('/sync/?hookfails')
    assert.equal(failed.status, 500)
    assert.equal((logger.records.at(-1)!.error as Error).message, 'hook failed')
  } finally {
    await c.close()
  }
})

test('errors thrown in a layer become a response at that boundary; the layers above still see a response', async () => {
  const trace: string[] = []
  const broken: Middleware = {
    name: 'broken',
    wrap: (next) => async (req) => {
      if (req.query.has('before')) throw new Error('broken before next')
      const res = await next(req)
      if (req.query.has('after')) throw new HttpError(418, 'teapot after next')
      return res
    },
  }
  const forgetful: Middleware = { name: 'forgetful', wrap: (next) => (async (req: HttpRequest) => { if (req.query.has('forget')) { await next(req); return undefined } return next(req) }) as never }
  const { app, logger } = testApp([{ route: 'x/', view: view(trace) }], { middleware: [tracer('A', trace), broken, forgetful, tracer('C', trace)] })
  const c = new Client(app)
  try {
    const before = await c.get('/x/?before')
    assert.equal(before.status, 500)
    assert.deepEqual(trace, ['A:request', 'A:response(500)'])
    assert.equal(logger.records.filter((r) => r.level === 'error').length, 1)
    trace.length = 0
    const after = await c.get('/x/?after')
    assert.equal(after.status, 418)
    assert.match(after.text, /teapot after next/)
    assert.deepEqual(trace, ['A:request', 'C:request', 'view({})', 'C:response(200)', 'A:response(418)'])
    const view500 = await c.get('/x/?boom')
    assert.equal(view500.status, 500)
    assert.equal(view500.headers['x-trace'], 'C, A')
    const gone = await c.get('/x/?gone')
    assert.equal(gone.status, 410)
    const forgot = await c.get('/x/?forget')
    assert.equal(forgot.status, 500)
    const last = logger.records.at(-1)!
    assert.match(String((last.error as Error).message), /Middleware 'forgetful' returned undefined.*forget to `return await next\(req\)`/)
  } finally {
    await c.close()
  }
})

test('the outermost layer converts its errors too; handlers without async may return a response or a thenable', async () => {
  const outer: Middleware = {
    name: 'outer',
    wrap: (next) => ((req: HttpRequest) => {
      if (req.query.has('throw')) throw new Error('outer threw before next')
      if (req.query.has('reject')) return Promise.reject(new HttpError(409, 'outer rejected'))
      if (req.query.has('nothing')) return undefined
      if (req.query.has('short')) return text('short-circuit')
      return next(req)
    }) as never,
  }
  // A plain (non-async) layer returning a foreign thenable resolving to the response below.
  const thenable: Middleware = {
    name: 'thenable',
    wrap: (next) => ((req: HttpRequest) => ({ then: (ok: (r: HttpResponse) => void, fail: (e: unknown) => void) => next(req).then(ok, fail) })) as never,
  }
  const { app, logger } = testApp([{ route: 'x/', view: () => text('view') }], { middleware: [outer, thenable] })
  const c = new Client(app)
  try {
    assert.equal((await c.get('/x/')).text, 'view')
    assert.equal((await c.get('/x/?short')).text, 'short-circuit')
    const threw = await c.get('/x/?throw')
    assert.equal(threw.status, 500)
    assert.equal((logger.records.at(-1)!.error as Error).message, 'outer threw before next')
    const rejected = await c.get('/x/?reject')
    assert.equal(rejected.status, 409)
    assert.match(rejected.text, /outer rejected/)
    const nothing = await c.get('/x/?nothing')
    assert.equal(nothing.status, 500)
    assert.match(String((logger.records.at(-1)!.error as Error).message), /Middleware 'outer' returned undefined/)
    // The same through app.run (the fetch adapter's path), which guards every layer itself.
    const res = await app.fetch(new Request('http://localhost/x/?nothing'))
    assert.equal(res.status, 500)
  } finally {
    await c.close()
  }
})

test('wrap returning null means not used (and its hooks are skipped); bad middleware is a ConfigError', async () => {
  const trace: string[] = []
  const off: Middleware = { name: 'off', wrap: () => null, view: () => { trace.push('off:view') } }
  const { app } = testApp([{ route: 'x/', view: view(trace) }], { middleware: [tracer('A', trace), off] })
  assert.deepEqual(app.middleware.map((m) => m.name), ['A'])
  const c = new Client(app)
  try {
    await c.get('/x/')
    assert.deepEqual(trace, ['A:request', 'view({})', 'A:response(200)'])
  } finally {
    await c.close()
  }
  const base = { urls: stubResolver([]), env: {}, logger: memoryLogger(), settings: { SECRET_KEY: 'k' } }
  assert.throws(() => createApp({ ...base, middleware: [{ name: 'x', wrap: () => 42 } as never] }), { code: 'CW_ERR_CONFIG', message: /app\.middleware\[0\] \(x\).*wrap\(\) returned number/ })
  assert.throws(() => createApp({ ...base, middleware: [{ default: {} } as never] }), { code: 'CW_ERR_CONFIG', message: /app\.middleware\[0\]/ })
})

test('middleware settings tables are validated with the app settings', () => {
  const mw: Middleware = {
    name: 'greeter',
    settings: { GREETING: { type: 'string', default: 'hi', description: 'greeting' } },
    wrap: (next, settings) => async (req) => { const r = await next(req); r.setHeader('x-greeting', settings.GREETING); return r },
  }
  const base = { urls: stubResolver([]), env: {}, logger: memoryLogger() }
  assert.equal(createApp({ ...base, middleware: [mw], settings: { SECRET_KEY: 'k', GREETING: 'yo' } }).settings.GREETING, 'yo')
  assert.throws(() => createApp({ ...base, settings: { SECRET_KEY: 'k', GREETING: 'yo' } }), { code: 'CW_ERR_CONFIG', message: /app\.GREETING: unknown setting/ })
  void HttpResponse
})

test('concurrent requests through the same layer boundaries each get their own answer (the boundaries reuse their handlers)', async () => {
  // Layers that answer in a shuffled order, fulfilling, rejecting or forgetting the response, so
  // that a boundary's handlers are freed and taken again while other requests are in flight.
  const later = (n: number) => new Promise((r) => setTimeout(r, n % 7))
  const shuffling = (name: string): Middleware => ({
    name,
    wrap: (next) => (async (req: HttpRequest) => {
      const n = Number(req.query.get('n'))
      await later(n)
      if (req.query.get('fail') === name) throw new HttpError(409, `${name} refused ${n}`)
      if (req.query.get('forget') === name) { await next(req); return undefined }
      const res = await next(req)
      await later(n + 3)
      return res.appendHeader('x-layers', name)
    }) as never,
  })
  const { app, logger } = testApp([{ route: 'x/', view: async (req: HttpRequest) => { await later(Number(req.query.get('n')) + 5); return text(`view ${req.query.get('n')}`) } }], {
    middleware: [shuffling('outer'), shuffling('middle'), shuffling('inner')],
  })
  const c = new Client(app)
  try {
    const outcomes = ['', 'fail=inner', 'forget=middle', 'fail=outer', 'forget=inner', 'forget=outer']
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: 60 }, (_, n) => c.get(`/x/?n=${n}&${outcomes[n % outcomes.length]}`)))
      answers.forEach((res, n) => {
        const outcome = outcomes[n % outcomes.length]!
        if (outcome === '') {
          assert.equal(res.text, `view ${n}`)
          assert.equal(res.headers['x-layers'], 'inner, middle, outer')
        } else if (outcome.startsWith('fail=')) {
          assert.equal(res.status, 409)
          assert.match(res.text, new RegExp(`${outcome.slice(5)} refused ${n}\\b`))
        } else {
          assert.equal(res.status, 500, `request ${n} (${outcome})`)
        }
      })
    }
    const forgotten = logger.records.filter((r) => /returned undefined/.test(String((r.error as Error | undefined)?.message)))
    assert.equal(forgotten.length, 3 * 30)
    for (const r of forgotten) assert.match(String((r.error as Error).message), /Middleware '(middle|inner|outer)' returned undefined/)
    assert.equal(forgotten.filter((r) => /'middle'/.test(String((r.error as Error).message))).length, 3 * 10)
  } finally {
    await c.close()
  }
})

test('a Promise subclass whose then() calls its handlers twice cannot answer a request twice', async () => {
  class Stuttering<T> extends Promise<T> {
    override then<A, B>(ok?: ((v: T) => A | PromiseLike<A>) | null, fail?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
      return super.then((v) => { void ok?.(v); return ok!(v) }, fail)
    }
  }
  const stuttering: Middleware = { name: 'stuttering', wrap: (next) => ((req: HttpRequest) => Stuttering.resolve(next(req))) as never }
  const { app } = testApp([{ route: 'x/', view: (req: HttpRequest) => text(`view ${req.query.get('n')}`) }], { middleware: [stuttering, stuttering] })
  const c = new Client(app)
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => c.get(`/x/?n=${n}`)))
    answers.forEach((res, n) => assert.equal(res.text, `view ${n}`))
  } finally {
    await c.close()
  }
})
