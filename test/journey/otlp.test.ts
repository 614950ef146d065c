import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  configureJourney, createSampler, startTrace, span, addEvent, OtlpHttpExporter, encodeTraces, msToNanos, RecordingSpan, tracesUrl,
  type SpanData,
} from '../../src/journey/index.ts'
import { encodeTracesJson } from '../../src/journey/otlp.ts'
import { COMPACT_SPANS_TYPE } from '../../src/journey/compact-spans.ts'

/** A plain HTTP server that records OTLP posts: checks what goes on the wire, not our collector. */
async function receiver(status = 200, answer?: (type: string) => { status: number; headers?: Record<string, string> }) {
  const posts: { headers: http.IncomingHttpHeaders; url: string; body: any }[] = []
  let waiting: (() => void)[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      posts.push({ headers: req.headers, url: req.url!, body: JSON.parse(Buffer.concat(chunks).toString()) })
      const a = answer?.(req.headers['content-type']!) ?? { status }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end('{}')
      for (const w of waiting) w()
      waiting = []
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const next = () => new Promise<void>((r) => waiting.push(r))
  return { posts, url, next, close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections() }) }
}

test('times are exact nanosecond strings', () => {
  assert.equal(msToNanos(1_700_000_000_123.5), '1700000000123500000')
  assert.equal(msToNanos(1_700_000_000_123.25), '1700000000123250000')
  assert.equal(msToNanos(1), '1000000')
  assert.equal(msToNanos(0.5), '500000')
  assert.equal(msToNanos(1_763_700_000_123.9999999), '1763700000124000000', 'rounding carries into the milliseconds')
  assert.equal(msToNanos(1_700_000_000_000.03125), '1700000000000031250', 'nanoseconds padded to six digits')
})

test('tracesUrl appends /v1/traces to a base endpoint, keeps a full one', () => {
  assert.equal(tracesUrl('http://127.0.0.1:4318').href, 'http://127.0.0.1:4318/v1/traces')
  assert.equal(tracesUrl('http://h:4318/otlp/').href, 'http://h:4318/otlp/v1/traces')
  assert.equal(tracesUrl('https://h/v1/traces').href, 'https://h/v1/traces')
  assert.throws(() => tracesUrl('ftp://h'), /http/)
})

test('the exporter posts OTLP/HTTP JSON whose every field has the OTLP shape', async (t) => {
  const rx = await receiver()
  t.after(rx.close)
  const exporter = new OtlpHttpExporter({ endpoint: rx.url, resource: { 'service.name': 'causeway-test', 'process.pid': 42 }, flushIntervalMs: 60_000, headers: { 'x-api-key': 'k' } })
  configureJourney({ enabled: true, sampler: createSampler('always'), sinks: [exporter] })
  const T = '4bf92f3577b34da6a3ce929d0e0e4736'
  await assert.rejects(startTrace({ traceparent: `00-${T}-00f067aa0ba902b7-01`, tracestate: 'rojo=1' }, { 'http.request.method': 'GET', 'url.path': '/p', n: 1.5, big: 2 ** 40, ok: true, list: ['a', 'b'], skip: undefined }, async () => {
    addEvent('received', { bytes: 3 })
    await span('fail', undefined, async () => { throw new Error('boom') }, { kind: 'client' })
  }, { name: 'GET /p' }))
  const posted = rx.next()
  await exporter.flush()
  await posted
  assert.equal(rx.posts.length, 1, JSON.stringify(rx.posts.map((p) => p.body.resourceSpans[0].scopeSpans[0].spans.map((s: any) => s.name))))
  const { headers, url, body } = rx.posts[0]!
  assert.equal(url, '/v1/traces')
  assert.equal(headers['content-type'], 'application/json')
  assert.equal(headers['x-api-key'], 'k')
  assert.deepEqual(Object.keys(body), ['resourceSpans'])
  assert.equal(body.resourceSpans.length, 1)
  const rs = body.resourceSpans[0]
  assert.deepEqual(rs.resource.attributes, [
    { key: 'service.name', value: { stringValue: 'causeway-test' } },
    { key: 'process.pid', value: { intValue: '42' } },
  ])
  assert.equal(rs.scopeSpans.length, 1)
  assert.deepEqual(rs.scopeSpans[0].scope, { name: 'causeway.journey', version: '0.1.0' })
  const spans = rs.scopeSpans[0].spans
  assert.equal(spans.length, 2)
  const [child, root] = spans
  assert.deepEqual(Object.keys(root).sort(), ['attributes', 'endTimeUnixNano', 'events', 'kind', 'name', 'parentSpanId', 'spanId', 'startTimeUnixNano', 'status', 'traceId', 'traceState'])
  assert.equal(root.traceId, T)
  assert.match(root.spanId, /^[0-9a-f]{16}$/)
  assert.equal(root.parentSpanId, '00f067aa0ba902b7')
  assert.equal(root.traceState, 'rojo=1')
  assert.equal(root.name, 'GET /p')
  assert.equal(root.kind, 2, 'SPAN_KIND_SERVER')
  assert.equal(child.kind, 3, 'SPAN_KIND_CLIENT')
  assert.equal(child.parentSpanId, root.spanId)
  for (const s of spans) {
    assert.equal(typeof s.startTimeUnixNano, 'string')
    assert.match(s.startTimeUnixNano, /^\d{19}$/)
    assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano))
    assert.ok(Math.abs(Number(BigInt(s.startTimeUnixNano) / 1_000_000n) - Date.now()) < 60_000, 'unix epoch nanos, not a monotonic offset')
  }
  assert.deepEqual(root.attributes, [
    { key: 'http.request.method', value: { stringValue: 'GET' } },
    { key: 'url.path', value: { stringValue: '/p' } },
    { key: 'n', value: { doubleValue: 1.5 } },
    { key: 'big', value: { intValue: String(2 ** 40) } },
    { key: 'ok', value: { boolValue: true } },
    { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } } },
  ])
  assert.deepEqual(root.events.map((e: any) => e.name), ['received', 'exception'], 'the rejection passed through the root too')
  assert.match(root.events[0].timeUnixNano, /^\d{19}$/)
  assert.deepEqual(root.events[0].attributes, [{ key: 'bytes', value: { intValue: '3' } }])
  assert.deepEqual(child.status, { code: 2, message: 'boom' }, 'STATUS_CODE_ERROR')
  assert.deepEqual(root.status, { code: 2, message: 'boom' })
  assert.equal(child.events[0].name, 'exception')
  assert.deepEqual(child.events[0].attributes.slice(0, 2), [
    { key: 'exception.type', value: { stringValue: 'Error' } },
    { key: 'exception.message', value: { stringValue: 'boom' } },
  ])
  assert.equal(child.events[0].attributes[2].key, 'exception.stacktrace')
  assert.equal(exporter.stats().exported, 2)
  await exporter.shutdown()
})

function fakeSpan(i: number): SpanData {
  const s = new RecordingSpan('4bf92f3577b34da6a3ce929d0e0e4736', (i + 1).toString(16).padStart(16, '0'), undefined, `s${i}`, 'internal', undefined, undefined)
  s.endMs = s.startMs + 1
  return s
}

test('a full queue drops and counts instead of blocking; batches are bounded; shutdown flushes', async (t) => {
  const rx = await receiver()
  t.after(rx.close)
  const exporter = new OtlpHttpExporter({ endpoint: rx.url, resource: { 'service.name': 'q' }, maxQueue: 10, maxBatch: 4, flushIntervalMs: 60_000 })
  // export() is synchronous: 15 spans in one turn, the queue holds 10 (a full batch starts a send
  // on a later turn, so nothing leaves the queue meanwhile).
  for (let i = 0; i < 15; i++) exporter.export(fakeSpan(i))
  assert.equal(exporter.stats().dropped, 5)
  await exporter.shutdown()
  const sizes = rx.posts.map((p) => p.body.resourceSpans[0].scopeSpans[0].spans.length)
  assert.deepEqual(sizes, [4, 4, 2])
  assert.deepEqual(exporter.stats(), { queued: 0, exported: 10, dropped: 5, failed: 0, requests: 3 })
  exporter.export(fakeSpan(99))
  assert.equal(exporter.stats().dropped, 6, 'after shutdown spans are dropped')
})

test('the flush timer sends without an explicit flush', async (t) => {
  const rx = await receiver()
  t.after(rx.close)
  const exporter = new OtlpHttpExporter({ endpoint: rx.url, resource: { 'service.name': 'timer' }, flushIntervalMs: 20 })
  const posted = rx.next()
  exporter.export(fakeSpan(1))
  await posted
  assert.equal(rx.posts.length, 1)
  await exporter.shutdown()
})

test('a failing or unreachable endpoint counts failures and never throws', async (t) => {
  const rx = await receiver(503)
  t.after(rx.close)
  const errors: Error[] = []
  const exporter = new OtlpHttpExporter({ endpoint: rx.url, resource: {}, flushIntervalMs: 60_000, onError: (e) => errors.push(e) })
  exporter.export(fakeSpan(1))
  await exporter.flush()
  assert.equal(exporter.stats().failed, 1)
  assert.match(errors[0]!.message, /503/)
  // A port nobody listens on: connection refused.
  const dead = http.createServer()
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r))
  const port = (dead.address() as AddressInfo).port
  await new Promise<void>((r) => dead.close(() => r()))
  const gone = new OtlpHttpExporter({ endpoint: `http://127.0.0.1:${port}`, resource: {}, flushIntervalMs: 60_000 })
  gone.export(fakeSpan(2))
  await gone.shutdown()
  assert.equal(gone.stats().failed, 1)
  await exporter.shutdown()
})

test('encodeTraces sends non-finite numbers as text, so one odd attribute cannot break a batch', () => {
  const s = fakeSpan(1)
  s.attributes = { nan: NaN, inf: Infinity }
  const body = JSON.parse(JSON.stringify(encodeTraces({}, [s])))
  assert.deepEqual(body.resourceSpans[0].scopeSpans[0].spans[0].attributes, [
    { key: 'nan', value: { stringValue: 'NaN' } },
    { key: 'inf', value: { stringValue: 'Infinity' } },
  ])
})

test('a full batch is sent on a later turn, without waiting for the timer', async (t) => {
  const rx = await receiver()
  t.after(rx.close)
  const exporter = new OtlpHttpExporter({ endpoint: rx.url, resource: {}, maxBatch: 3, flushIntervalMs: 3_600_000 })
  const posted = rx.next()
  for (let i = 0; i < 3; i++) exporter.export(fakeSpan(i))
  assert.equal(exporter.stats().requests, 0, 'nothing is encoded or sent inside export()')
  await posted
  assert.equal(rx.posts[0]!.body.resourceSpans[0].scopeSpans[0].spans.length, 3)
  await exporter.shutdown()
})

test('encodeTracesJson writes the request encodeTraces builds, leaving out empty attributes, events and unset status', () => {
  const a = fakeSpan(1)
  const b = fakeSpan(2)
  b.attributes = { 'q"uote': 'line\nbreak', n: 1.5, i: -3, ok: false, list: ['a', 2, true], u: undefined, nan: NaN }
  b.events.push({ name: 'e', timeMs: b.startMs + 0.5, attributes: {} }, { name: 'f', timeMs: b.startMs + 0.7, attributes: { k: 'v' } })
  b.status = { code: 'error', message: 'boom' }
  const c = { ...fakeSpan(3), parentSpanId: a.spanId, traceState: 'k=v', status: { code: 'ok' as const } }
  const text = encodeTracesJson({ 'service.name': 's', pid: 7 }, [a, b, c])
  const built = JSON.parse(JSON.stringify(encodeTraces({ 'service.name': 's', pid: 7 }, [a, b, c])))
  for (const span of built.resourceSpans[0].scopeSpans[0].spans) {
    if (span.attributes.length === 0) delete span.attributes
    if (span.events.length === 0) delete span.events
    for (const e of span.events ?? []) if (e.attributes.length === 0) delete e.attributes
    if (span.status.code === 0 && span.status.message === undefined) delete span.status
  }
  assert.deepEqual(JSON.parse(text), built)
})

test('the exporter sends compact batches only to a receiver that offers them, and OTLP JSON again on 415', async (t) => {
  // An OTLP receiver (no Accept-Post): OTLP JSON every time.
  const plain = await receiver()
  t.after(plain.close)
  const toPlain = new OtlpHttpExporter({ endpoint: plain.url, resource: {}, flushIntervalMs: 60_000 })
  for (let i = 0; i < 3; i++) {
    toPlain.export(fakeSpan(i))
    await toPlain.flush()
  }
  await toPlain.shutdown()
  assert.deepEqual(plain.posts.map((p) => p.headers['content-type']), ['application/json', 'application/json', 'application/json'])

  // Causeway's collector offers it: the first batch is OTLP JSON, the next ones compact.
  let refuse = false
  const offer: Record<string, string> = { 'accept-post': `application/json, ${COMPACT_SPANS_TYPE}` }
  const offering = await receiver(200, (type) => refuse && type === COMPACT_SPANS_TYPE ? { status: 415 } : { status: 200, headers: refuse ? {} : offer })
  t.after(offering.close)
  const exporter = new OtlpHttpExporter({ endpoint: offering.url, resource: { 'service.name': 'w' }, flushIntervalMs: 60_000 })
  for (let i = 0; i < 3; i++) {
    exporter.export(fakeSpan(i))
    await exporter.flush()
  }
  assert.deepEqual(offering.posts.map((p) => p.headers['content-type']), ['application/json', COMPACT_SPANS_TYPE, COMPACT_SPANS_TYPE])
  assert.equal(offering.posts[1]!.body.spans[0][3], 's1')
  // Replaced by a receiver that refuses it: the batch goes again as OTLP JSON, and so do the next.
  refuse = true
  exporter.export(fakeSpan(3))
  await exporter.flush()
  exporter.export(fakeSpan(4))
  await exporter.flush()
  assert.deepEqual(offering.posts.slice(3).map((p) => p.headers['content-type']), [COMPACT_SPANS_TYPE, 'application/json', 'application/json'])
  assert.equal(offering.posts[4]!.body.resourceSpans[0].scopeSpans[0].spans[0].name, 's3')
  assert.deepEqual(exporter.stats(), { queued: 0, exported: 5, dropped: 0, failed: 0, requests: 6 })
  await exporter.shutdown()
})
