import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { gzipSync } from 'node:zlib'
import { collectLocalSpans, decodeOtlpTraces } from '../../src/journey/otlp-decode.ts'
import { COMPACT_SPANS_TYPE, decodeCompactSpans, encodeCompactSpans } from '../../src/journey/compact-spans.ts'
import { encodeTracesJson } from '../../src/journey/otlp.ts'
import { readFileSync } from 'node:fs'
import type { SpanData } from '../../src/journey/span.ts'
import { encodeTraces, createCollector, listenCollector, configureJourney, createSampler, startTrace, span, type Collector } from '../../src/journey/index.ts'

const T1 = '4bf92f3577b34da6a3ce929d0e0e4736'
const T2 = '0af7651916cd43dd8448eb211c80319c'

function otlpSpan(traceId: string, spanId: string, parent: string | undefined, name: string, startMs: number, durMs: number, extra: Record<string, unknown> = {}) {
  const ns = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString()
  return { traceId, spanId, ...(parent ? { parentSpanId: parent } : {}), name, kind: 2, startTimeUnixNano: ns(startMs), endTimeUnixNano: ns(startMs + durMs), attributes: [], ...extra }
}

function body(service: string, spans: unknown[]) {
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] }
}

async function post(url: string, payload: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/v1/traces', method = 'POST') {
  const res = await fetch(url + path, { method, headers, body: method === 'GET' ? undefined : payload })
  const text = await res.text()
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined, headers: res.headers }
}

async function serve(c: Collector, t: { after(fn: () => unknown): void }) {
  const s = await listenCollector(c)
  t.after(s.close)
  return s.url
}

test('spans posted by several processes assemble into one trace with a tree', async (t) => {
  const c = createCollector({ slowThresholdMs: 100 })
  const url = await serve(c, t)
  const t0 = Date.now()
  const edge = body('causeway-edge', [
    otlpSpan(T1, 'a000000000000001', undefined, 'GET /products/x', t0, 150, { attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'url.path', value: { stringValue: '/products/x' } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
    ] }),
    otlpSpan(T1, 'a000000000000002', 'a000000000000001', 'proxy', t0 + 5, 140, { kind: 3 }),
  ])
  const worker = body('causeway-worker', [
    otlpSpan(T1, 'b000000000000001', 'a000000000000002', 'worker', t0 + 10, 120),
    otlpSpan(T1, 'b000000000000002', 'b000000000000001', 'SELECT product', t0 + 20, 30, { status: { code: 2, message: 'slow query' } }),
    otlpSpan(T1, 'b000000000000003', 'b000000000000001', 'render', t0 + 60, 50),
  ])
  // The worker's spans arrive first: order must not matter.
  assert.equal((await post(url, JSON.stringify(worker))).status, 200)
  const r = await post(url, JSON.stringify(edge))
  assert.equal(r.status, 200)
  assert.deepEqual(r.json, {})
  await post(url, JSON.stringify(body('other', [otlpSpan(T2, 'c000000000000001', undefined, 'GET /fast', t0 + 1, 2)])))

  const tree = c.tree(T1)!
  assert.deepEqual(tree.rows.map((n) => [n.span.name, n.depth, n.span.service]), [
    ['GET /products/x', 0, 'causeway-edge'],
    ['proxy', 1, 'causeway-edge'],
    ['worker', 2, 'causeway-worker'],
    ['SELECT product', 3, 'causeway-worker'],
    ['render', 3, 'causeway-worker'],
  ])
  assert.equal(tree.roots.length, 1)
  assert.equal(tree.endMs - tree.startMs, 150)
  const sum = c.summary(T1)!
  assert.deepEqual({ ...sum, startMs: 0, services: [...sum.services].sort() }, {
    traceId: T1, name: 'GET /products/x', service: 'causeway-edge', method: 'GET', path: '/products/x', status: 200,
    startMs: 0, durationMs: 150, spanCount: 5, services: ['causeway-edge', 'causeway-worker'], errors: 1,
  })
  assert.deepEqual(c.recent().map((s) => s.traceId), [T2, T1], 'most recent first')
  assert.deepEqual(c.slow().map((s) => s.traceId), [T1], 'only roots over the threshold')
  assert.deepEqual(c.slow(10, 0).map((s) => s.traceId), [T1, T2], 'slowest first')
  assert.equal(c.spans(T1)!.find((s) => s.spanId === 'b000000000000002')!.status.message, 'slow query')
  assert.equal(c.stats().spans, 6)
})

test('malformed or invalid bodies get 400 with the reason naming the field', async (t) => {
  const c = createCollector()
  const url = await serve(c, t)
  const good = otlpSpan(T1, 'a000000000000001', undefined, 'x', Date.now(), 1)
  const cases: [string, string | object, RegExp][] = [
    ['not JSON', '{"resourceSpans": [', /malformed JSON/],
    ['array body', [], /body: expected a JSON object/],
    ['wrong top-level key', { spans: [] }, /resourceSpans: missing/],
    ['resourceSpans not an array', { resourceSpans: {} }, /resourceSpans: expected an array/],
    ['short trace id', body('s', [{ ...good, traceId: 'abc' }]), /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected 32 hex/],
    ['all-zero trace id', body('s', [{ ...good, traceId: '0'.repeat(32) }]), /traceId: an all-zero id is invalid/],
    ['base64 span id', body('s', [{ ...good, spanId: 'AAAAAAAAAAE=' }]), /spanId: expected 16 hex/],
    ['bad parent id', body('s', [{ ...good, parentSpanId: 'zz' }]), /parentSpanId/],
    ['name not a string', body('s', [{ ...good, name: 5 }]), /spans\[0\]\.name: expected a string/],
    ['time not nanos', body('s', [{ ...good, startTimeUnixNano: '2024-01-01' }]), /startTimeUnixNano: expected unix nanoseconds/],
    ['ends before start', body('s', [{ ...good, endTimeUnixNano: '1' }]), /ends before it starts/],
    ['unknown kind', body('s', [{ ...good, kind: 9 }]), /kind: unknown value 9/],
    ['bad attribute', body('s', [{ ...good, attributes: [{ key: 'k', value: 'raw' }] }]), /attributes\[0\]\.value: expected an AnyValue/],
    ['bad int', body('s', [{ ...good, attributes: [{ key: 'k', value: { intValue: 'x' } }] }]), /intValue: expected an integer/],
    ['second span bad', body('s', [good, { ...good, spanId: 'a000000000000002', events: [{ name: 'e', timeUnixNano: 'soon' }] }]), /spans\[1\]\.events\[0\]\.timeUnixNano/],
  ]
  for (const [what, payload, reason] of cases) {
    const r = await post(url, typeof payload === 'string' ? payload : JSON.stringify(payload))
    assert.equal(r.status, 400, what)
    assert.equal(r.json.code, 3, `${what}: OTLP error body`)
    assert.match(r.json.message, reason, what)
  }
  assert.equal(c.stats().traces, 0, 'nothing from a refused request is stored')
  assert.equal(c.stats().rejectedRequests, cases.length)
  // Uppercase hex ids are normalised; enum names are accepted; `{}` is an empty export.
  const ok = await post(url, JSON.stringify(body('s', [{ ...good, traceId: T1.toUpperCase(), kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_OK' } }])))
  assert.equal(ok.status, 200)
  assert.equal(c.spans(T1)![0]!.kind, 'client')
  assert.equal((await post(url, '{}')).status, 200)
})

test('wrong method, content type or encoding are refused; gzip bodies are accepted', async (t) => {
  const c = createCollector()
  const url = await serve(c, t)
  const r405 = await post(url, '', {}, '/v1/traces', 'GET')
  assert.equal(r405.status, 405)
  assert.equal(r405.headers.get('allow'), 'POST')
  const r415 = await post(url, 'x', { 'content-type': 'application/x-protobuf' })
  assert.equal(r415.status, 415)
  assert.match(r415.json.message, /protobuf is not supported/)
  assert.equal((await post(url, '{}', { 'content-type': 'application/json', 'content-encoding': 'br' })).status, 415)
  assert.equal((await post(url, '{}', {}, '/elsewhere')).status, 404)
  const gz = gzipSync(JSON.stringify(body('zipped', [otlpSpan(T2, 'a000000000000001', undefined, 'z', Date.now(), 1)])))
  const ok = await post(url, gz, { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' })
  assert.equal(ok.status, 200)
  assert.equal(c.spans(T2)![0]!.service, 'zipped')
  assert.equal((await post(url, Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status, 400)
})

test('too large → 413, by Content-Length, while streaming, and after gunzip', async (t) => {
  const c = createCollector({ maxBodyBytes: 1024 })
  const url = await serve(c, t)
  const big = JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(5000) })
  const r = await post(url, big)
  assert.equal(r.status, 413)
  assert.match(r.json.message, /exceeds the limit of 1024/)
  // Chunked, no Content-Length: counted while reading.
  const port = new URL(url).port
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume()
      resolve(res.statusCode!)
    })
    req.on('error', reject)
    for (let i = 0; i < 10; i++) req.write('x'.repeat(200))
    req.end()
  })
  assert.equal(status, 413)
  const bomb = gzipSync(JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(100_000) }))
  assert.ok(bomb.length < 1024)
  const z = await post(url, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
  assert.equal(z.status, 413)
  assert.match(z.json.message, /decompressed/)
})

test('bounded: oldest traces evicted, spans per trace capped with OTLP partial success', async (t) => {
  const c = createCollector({ maxTraces: 3, maxSpansPerTrace: 2 })
  const url = await serve(c, t)
  const ids = [1, 2, 3, 4].map((i) => `${i}`.repeat(32))
  for (const id of ids) await post(url, JSON.stringify(body('s', [otlpSpan(id, 'a000000000000001', undefined, 'r', Date.now(), 1)])))
  assert.equal(c.stats().traces, 3)
  assert.equal(c.tree(ids[0]!), undefined, 'the oldest went first')
  assert.equal(c.stats().evictedTraces, 1)
  // A trace still receiving spans counts as fresh.
  await post(url, JSON.stringify(body('s', [otlpSpan(ids[1]!, 'a000000000000002', 'a000000000000001', 'c', Date.now(), 1)])))
  await post(url, JSON.stringify(body('s', [otlpSpan('5'.repeat(32), 'a000000000000001', undefined, 'r', Date.now(), 1)])))
  assert.ok(c.tree(ids[1]!), 'updated trace kept')
  assert.equal(c.tree(ids[2]!), undefined, 'least recently updated evicted')
  const r = await post(url, JSON.stringify(body('s', [otlpSpan(ids[1]!, 'a000000000000003', 'a000000000000001', 'over', Date.now(), 1)])))
  assert.equal(r.status, 200)
  assert.deepEqual(r.json, { partialSuccess: { rejectedSpans: '1', errorMessage: 'trace span limit reached' } })
  assert.equal(c.spans(ids[1]!)!.length, 2)
  // maxSpans bounds memory across traces.
  const small = createCollector({ maxSpans: 3 })
  for (const id of ids) small.ingest(body('s', [otlpSpan(id, 'a000000000000001', undefined, 'r', Date.now(), 1), otlpSpan(id, 'a000000000000002', 'a000000000000001', 'c', Date.now(), 1)]))
  assert.deepEqual([small.stats().traces, small.stats().spans], [1, 2])
  assert.deepEqual(small.recent().map((s) => s.traceId), [ids[3]])
})

test('orphans and parent cycles still show every span once', () => {
  const c = createCollector()
  const t0 = Date.now()
  c.ingest(body('s', [
    otlpSpan(T1, 'a000000000000001', 'ffffffffffffffff', 'continued from a caller we never heard from', t0, 10),
    otlpSpan(T1, 'a000000000000002', 'a000000000000001', 'child', t0 + 1, 2),
    otlpSpan(T1, 'a000000000000003', 'a000000000000004', 'cycle-a', t0 + 2, 1),
    otlpSpan(T1, 'a000000000000004', 'a000000000000003', 'cycle-b', t0 + 3, 1),
    otlpSpan(T1, 'a000000000000005', 'a000000000000005', 'self-parent', t0 + 4, 1),
  ]))
  const tree = c.tree(T1)!
  assert.equal(tree.rows.length, 5)
  assert.equal(new Set(tree.rows.map((r) => r.span.spanId)).size, 5)
  assert.equal(tree.rows[0]!.span.name, 'continued from a caller we never heard from')
  assert.equal(tree.rows[0]!.orphan, true)
  assert.equal(tree.rows[1]!.depth, 1)
  assert.equal(c.summary(T1)!.name, 'continued from a caller we never heard from', 'root: earliest span whose parent is absent')
})

test('in-process sink: the hosting process stores its spans without HTTP, off the request path', async () => {
  const c = createCollector()
  const sink = c.sink({ 'service.name': 'causeway-edge' })
  configureJourney({ enabled: true, sampler: createSampler('always'), sinks: [sink] })
  let traceId = ''
  await startTrace(undefined, { 'url.path': '/<script>' }, async () => {
    await span('inner', { n: 1 }, async () => {})
    traceId = c.recent().length === 0 ? 'not-yet' : 'too-early'
  })
  assert.equal(traceId, 'not-yet')
  assert.equal(c.stats().spans, 0, 'export only queued the spans')
  await sink.flush()
  const [summary] = c.recent()
  assert.equal(summary!.spanCount, 2)
  assert.equal(summary!.service, 'causeway-edge')
  assert.equal(summary!.path, '/<script>')
  // and the event-loop path works without an explicit flush
  const waiting = new Promise((r) => c.once('spans', r))
  await startTrace(undefined, undefined, async () => {})
  await waiting
  assert.equal(c.stats().traces, 2)
})

test('in-process spans are stored exactly as an OTLP export of them would be (the sink skips the JSON objects)', () => {
  const resource = { 'service.name': 'causeway-edge', 'host.name': 'h', skipped: undefined }
  const t0 = 1_763_700_000_123.456789
  const long = 'x'.repeat(5000)
  const many: Record<string, number> = {}
  for (let i = 0; i < 140; i++) many[`k${i}`] = i
  const spans: SpanData[] = [
    {
      traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), parentSpanId: undefined, name: 'edge GET /', kind: 'server',
      startMs: t0, endMs: t0 + 1.2345678, traceState: 'vendor=1',
      attributes: { s: 'v', long, i: 42, neg: -7, zero: -0, big: 2 ** 60, d: 1.5, nan: Number.NaN, inf: -Infinity, b: false, arr: ['a', 1, true], u: undefined },
      events: [{ name: 'exception', timeMs: t0 + 1, attributes: { 'exception.message': 'boom', n: 3 } }],
      status: { code: 'error', message: 'HTTP 500' },
    },
    {
      traceId: 'ab'.repeat(16), spanId: 'ef'.repeat(8), parentSpanId: 'cd'.repeat(8), name: long, kind: 'client',
      startMs: t0 + 0.1, endMs: t0 + 0.1, traceState: undefined, attributes: many, events: [], status: { code: 'unset' },
    },
  ]
  const viaOtlp = decodeOtlpTraces(JSON.parse(JSON.stringify(encodeTraces(resource, spans))))
  for (const s of viaOtlp) s.scope = 'causeway.journey'
  assert.deepEqual(collectLocalSpans(resource, 'causeway.journey', spans), viaOtlp)
  // The exporter's two encodings store the same spans: its OTLP JSON text and the compact one.
  assert.deepEqual(decodeOtlpTraces(JSON.parse(encodeTracesJson(resource, spans))), viaOtlp)
  assert.deepEqual(decodeCompactSpans(JSON.parse(encodeCompactSpans(resource, spans))), viaOtlp)
})

const shop = JSON.parse(readFileSync(new URL('fixtures/shop-product-trace.json', import.meta.url), 'utf8')) as { resource: Record<string, string | number>; spans: SpanData[] }

test('a compact batch stores exactly the spans its OTLP export stores (a shop trace, two traces interleaved)', () => {
  const other = shop.spans.map((s) => ({ ...s, traceId: `ff${s.traceId.slice(2)}` }))
  const spans = [...shop.spans.slice(0, 5), ...other, ...shop.spans.slice(5)]
  const compact = encodeCompactSpans(shop.resource, spans)
  const otlp = encodeTracesJson(shop.resource, spans)
  assert.deepEqual(decodeCompactSpans(JSON.parse(compact)), decodeOtlpTraces(JSON.parse(otlp)))
  assert.ok(compact.length < otlp.length * 0.6, `${compact.length} bytes against ${otlp.length}`)
})

test('compact batches: the collector offers them (Accept-Post), stores them, refuses bad ones naming the field', async (t) => {
  const c = createCollector()
  const url = await serve(c, t)
  const headers = { 'content-type': COMPACT_SPANS_TYPE }
  const ok = await post(url, encodeCompactSpans(shop.resource, shop.spans), headers)
  assert.equal(ok.status, 200)
  assert.match(ok.headers.get('accept-post')!, /application\/json/)
  assert.ok(ok.headers.get('accept-post')!.includes(COMPACT_SPANS_TYPE))
  const traceId = shop.spans[0]!.traceId
  assert.equal(c.spans(traceId)!.length, shop.spans.length)
  assert.equal(c.summary(traceId)!.service, 'causeway-worker')
  const good = JSON.parse(encodeCompactSpans({ 'service.name': 's' }, [shop.spans[0]!]))
  const span0 = good.spans[0]
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '[', /malformed JSON/],
    ['other version', { ...good, v: 2 }, /v: unsupported version 2/],
    ['no keys', { ...good, keys: undefined }, /keys: expected an array/],
    ['first span without trace id', { ...good, spans: [[0, ...span0.slice(1)]] }, /spans\[0\]\[0\]: no previous span/],
    ['bad span id', { ...good, spans: [[span0[0], 'zz', ...span0.slice(2)]] }, /spans\[0\]\[1\]: expected 16 hex/],
    ['key index out of range', { ...good, spans: [[...span0.slice(0, 7), [99, 'v'], ...span0.slice(8)]] }, /spans\[0\]\[7\]\[0\]: expected an index/],
    ['object value', { ...good, spans: [[...span0.slice(0, 7), [0, { a: 1 }], ...span0.slice(8)]] }, /spans\[0\]\[7\]\[1\]/],
    ['ends before start', { ...good, spans: [[...span0.slice(0, 6), '1', ...span0.slice(7)]] }, /spans\[0\]\[6\]: ends before it starts/],
    ['unknown status', { ...good, spans: [[...span0.slice(0, 9), 7]] }, /spans\[0\]\[9\]: unknown status 7/],
  ]
  for (const [what, payload, reason] of cases) {
    const r = await post(url, typeof payload === 'string' ? payload : JSON.stringify(payload), headers)
    assert.equal(r.status, 400, what)
    assert.match(r.json.message, reason, what)
  }
  assert.equal(c.stats().rejectedRequests, cases.length)
})

test('a very deep chain of spans builds without overflowing the stack', () => {
  const c = createCollector({ maxSpansPerTrace: 20_000, maxSpans: 20_000 })
  const t0 = Date.now()
  const hex = (i: number) => (i + 1).toString(16).padStart(16, '0')
  const spans = Array.from({ length: 15_000 }, (_, i) => otlpSpan(T1, hex(i), i === 0 ? undefined : hex(i - 1), `s${i}`, t0 + i / 1000, 1))
  c.ingest(body('deep', spans))
  const tree = c.tree(T1)!
  assert.equal(tree.rows.length, 15_000)
  assert.equal(tree.rows.at(-1)!.depth, 14_999)
})

test("an exporter talks compact to Causeway's collector after its first batch, and the collector stores the same spans", async (t) => {
  const c = createCollector()
  const types: string[] = []
  const server = http.createServer((req, res) => {
    types.push(req.headers['content-type']!)
    c.listener(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections() }))
  const { OtlpHttpExporter } = await import('../../src/journey/exporter.ts')
  const exporter = new OtlpHttpExporter({ endpoint: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`, resource: shop.resource, flushIntervalMs: 60_000 })
  const half = shop.spans.length >> 1
  for (const s of shop.spans.slice(0, half)) exporter.export(s)
  await exporter.flush()
  for (const s of shop.spans.slice(half)) exporter.export(s)
  await exporter.shutdown()
  assert.deepEqual(types, ['application/json', COMPACT_SPANS_TYPE])
  const stored = c.spans(shop.spans[0]!.traceId)!.sort((a, b) => a.spanId.localeCompare(b.spanId))
  const viaOtlp = decodeOtlpTraces(JSON.parse(encodeTracesJson(shop.resource, shop.spans))).sort((a, b) => a.spanId.localeCompare(b.spanId))
  assert.deepEqual(stored, viaOtlp)
})
