// What one exported trace costs on each side of the workers → edge OTLP hop (issue 8): the
// worker's encoding of a batch into the request body, and the edge's decoding and storing of that
// body (everything the collector's HTTP handler does after the body has arrived). The trace is a
// real one: test/journey/fixtures/shop-product-trace.json, the shop's product page as a
// `causeway up` worker records it (18 spans). A batch holds BATCH copies under fresh ids (512
// spans ≈ 28 traces is the exporter's default batch).
//   [FORMAT=otlp|compact] node --import tsx bench/journey-otlp.ts encode|decode N
// FORMAT: OTLP JSON (default: what an external receiver gets) or the compact encoding a worker
// sends the edge's collector (compact-spans.ts).
// Deterministic instructions per trace: bundle it to plain JS (tsx's loader thread starts up a
// little differently each run), run it under callgrind with two N, and divide the difference of
// the PROGRAM TOTALS by (N2 − N1) × BATCH (set-up, warm-up and compilation cancel out):
//   esbuild bench/journey-otlp.ts --bundle --platform=node --format=esm --outfile=DIR/bench/journey-otlp.mjs
//   (with the fixture copied to DIR/test/journey/fixtures/)
//   valgrind --tool=callgrind node --predictable DIR/bench/journey-otlp.mjs encode 100   (then 400)
import { readFileSync } from 'node:fs'
import { Collector } from '../src/journey/collector.ts'
import { encodeTracesJson } from '../src/journey/otlp.ts'
import { encodeCompactSpans } from '../src/journey/compact-spans.ts'
import type { SpanData, Attributes } from '../src/journey/span.ts'

const mode = process.argv[2] ?? 'encode'
const n = Number(process.argv[3] ?? 200)
const BATCH = Number(process.env.BATCH ?? 28)
const compact = process.env.FORMAT === 'compact'
const fixture = JSON.parse(readFileSync(new URL('../test/journey/fixtures/shop-product-trace.json', import.meta.url), 'utf8')) as { resource: Attributes; spans: SpanData[] }

/** The fixture's trace under new ids: copy `k` of it gets its own trace id and span ids. */
function copyTrace(k: number): SpanData[] {
  const hex = (k + 1).toString(16).padStart(8, '0')
  const reid = (id: string) => hex + id.slice(8)
  return fixture.spans.map((s) => ({ ...s, traceId: reid(s.traceId), spanId: reid(s.spanId), parentSpanId: s.parentSpanId === undefined ? undefined : reid(s.parentSpanId) }))
}
const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: BATCH }, (_, i) => copyTrace(b * BATCH + i)).flat())

/** The exporter's request body for a batch (exporter.ts #send). */
function body(spans: SpanData[]): Buffer {
  return Buffer.from(compact ? encodeCompactSpans(fixture.resource, spans) : encodeTracesJson(fixture.resource, spans))
}

let sink = 0
const t0 = process.hrtime.bigint()
if (mode === 'encode') {
  for (let i = 0; i < n; i++) sink += body(batches[i % batches.length]!).length
} else if (mode === 'decode') {
  const collector = new Collector()
  const bodies = batches.map(body)
  // The collector-http.ts path after the body is in: text, parse, decode and validate, store.
  for (let i = 0; i < n; i++) {
    const parsed = JSON.parse(bodies[i % bodies.length]!.toString('utf8'))
    sink += (compact ? collector.ingestCompact(parsed) : collector.ingest(parsed)).accepted
  }
} else {
  throw new Error(`mode: encode | decode, not ${mode}`)
}
const ns = Number(process.hrtime.bigint() - t0)
console.log(`${mode} ${compact ? 'compact' : 'otlp'}: ${n} batches of ${BATCH} traces, ${(ns / n / BATCH / 1000).toFixed(1)} µs/trace, body ${(body(batches[0]!).length / BATCH).toFixed(0)} bytes/trace (${sink})`)
