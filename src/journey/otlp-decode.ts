// Decoding and validating an OTLP/HTTP JSON ExportTraceServiceRequest for the collector. The body
// comes from the network: every field is checked, a bad one is reported with its path
// (`resourceSpans[0].scopeSpans[1].spans[3].traceId: …`) and the whole request is refused.
// Strings and lists are capped so one request cannot make a span arbitrarily large.
import { msToNanos, type AttributeValue, type Attributes, type SpanData, type SpanKind, type StatusCode } from './span.ts'

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value }

export interface CollectedEvent {
  name: string
  timeUnixNano: string
  attributes: Record<string, Value>
}

/** A span as the collector stores it: OTLP fields decoded, plus its resource's service name. */
export interface CollectedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  traceState?: string
  name: string
  kind: SpanKind | 'unspecified'
  startTimeUnixNano: string
  endTimeUnixNano: string
  /** Derived: epoch milliseconds and duration, for sorting and drawing. */
  startMs: number
  durationMs: number
  attributes: Record<string, Value>
  events: CollectedEvent[]
  status: { code: StatusCode; message?: string }
  /** `service.name` of the resource that sent it ('unknown_service' when missing). */
  service: string
  resource: Record<string, Value>
  scope?: string
}

export class OtlpDecodeError extends Error {
  readonly code = 'CW_ERR_JOURNEY_OTLP'
  /** Where the bad field is; each enclosing level prepends its part as the error passes through. */
  path: string
  readonly reason: string
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`)
    this.path = path
    this.reason = reason
  }
}

export const LIMITS = { string: 4096, name: 512, attributes: 128, events: 128, arrayItems: 128, depth: 4 }

export const KINDS: (SpanKind | 'unspecified')[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']
const KIND_NAMES: Record<string, SpanKind | 'unspecified'> = {
  SPAN_KIND_UNSPECIFIED: 'unspecified', SPAN_KIND_INTERNAL: 'internal', SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client', SPAN_KIND_PRODUCER: 'producer', SPAN_KIND_CONSUMER: 'consumer',
}
export const STATUSES: StatusCode[] = ['unset', 'ok', 'error']
const STATUS_NAMES: Record<string, StatusCode> = { STATUS_CODE_UNSET: 'unset', STATUS_CODE_OK: 'ok', STATUS_CODE_ERROR: 'error' }
const HEX_ID = /^[0-9a-fA-F]+$/

// Paths are built only for the error: a field's path is relative to the object its function
// decodes (constant strings), and a loop prepends `[i]` and its own part when an error passes
// through it (under()). A valid body, the usual one, builds no path string at all.
export function fail(path: string, msg: string): never {
  throw new OtlpDecodeError(path, msg)
}

/** Prepends `prefix` to the path of a decode error passing through (other errors unchanged). */
export function under(e: unknown, prefix: string): unknown {
  if (e instanceof OtlpDecodeError) {
    e.path = prefix + e.path
    e.message = `${e.path}: ${e.reason}`
  }
  return e
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) fail(path, 'expected an array')
  return v
}

export function cap(s: string, max = LIMITS.string): string {
  return s.length > max ? `${s.slice(0, max)}…` : s
}

export function str(v: unknown, path: string, max = LIMITS.string): string {
  if (typeof v !== 'string') fail(path, 'expected a string')
  return cap(v, max)
}

/** OTLP JSON ids are hex (not base64, unlike protobuf's generic JSON mapping); returned lowercase. */
export function id(v: unknown, path: string, hexLen: number): string {
  if (typeof v !== 'string' || v.length !== hexLen) fail(path, `expected ${hexLen} hex characters`)
  // The usual id, lowercase hex as every OTel SDK writes it, in one pass; anything else the regex way.
  let zero = true
  let i = 0
  for (; i < hexLen; i++) {
    const c = v.charCodeAt(i)
    if (c === 48) continue
    if (!((c > 48 && c <= 57) || (c >= 97 && c <= 102))) break
    zero = false
  }
  if (i === hexLen) {
    if (zero) fail(path, 'an all-zero id is invalid')
    return v
  }
  if (!HEX_ID.test(v)) fail(path, `expected ${hexLen} hex characters`)
  return v.toLowerCase()
}

const TWO_64 = 2n ** 64n

/**
 * A unix-nanosecond time (uint64) as its canonical decimal text. Digits are checked in one pass;
 * only a leading zero or a 20-digit value (the only length that can pass 2^64) needs a BigInt.
 */
export function nanos(v: unknown, path: string): string {
  if (typeof v === 'string') {
    const n = v.length
    let i = 0
    for (; i < n; i++) {
      const c = v.charCodeAt(i)
      if (c < 48 || c > 57) break
    }
    if (i === n && n >= 1 && n <= 20) {
      if (n < 20 && (n === 1 || v.charCodeAt(0) !== 48)) return v
      const big = BigInt(v)
      if (big < TWO_64) return big.toString()
    }
  } else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
    return String(v === 0 ? 0 : v)
  }
  fail(path, 'expected unix nanoseconds as a decimal string')
}

// splitNanos' results: a time's whole seconds and the nanoseconds under them, each exact as a
// double (twenty digits are at most 1.8e11 seconds). Module scratch: no object per time.
let seconds = 0
let subsecond = 0

/** Splits canonical nanoseconds (digits only, checked by nanos()) into `seconds` and `subsecond`. */
function splitNanos(ns: string): void {
  const cut = ns.length - 9
  let a = 0
  let b = 0
  for (let i = 0; i < ns.length; i++) {
    const d = ns.charCodeAt(i) - 48
    if (i < cut) a = a * 10 + d
    else b = b * 10 + d
  }
  seconds = a
  subsecond = b
}

/** Epoch milliseconds of canonical nanoseconds: Number(ns / 1000n) / 1000, without the BigInt. */
export function nanosToMs(ns: string): number {
  splitNanos(ns)
  // Whole microseconds, exact while under 2^53 (until the year 2255); past that, Number() of
  // their text rounds as Number() of the BigInt quotient does.
  const micros = seconds * 1e6 + Math.floor(subsecond / 1000)
  return micros <= Number.MAX_SAFE_INTEGER ? micros / 1000 : Number(ns.slice(0, -3)) / 1000
}

/** end − start in nanoseconds (canonical texts), as Number(BigInt(end) − BigInt(start)) gives it. */
export function nanosBetween(start: string, end: string): number {
  splitNanos(end)
  const endSeconds = seconds
  const endSubsecond = subsecond
  splitNanos(start)
  // Exact while the difference stays under 2^53 ns (104 days): a span, the usual case.
  const s = endSeconds - seconds
  if (s <= 9e6 && s >= -9e6) return s * 1e9 + (endSubsecond - subsecond)
  return Number(BigInt(end) - BigInt(start))
}

/** `at`: this value's path relative to the caller's object ('' or a constant). */
function anyValue(v: unknown, at: string, depth: number): Value {
  if (!isObject(v)) fail(at, 'expected an AnyValue object')
  if (depth > LIMITS.depth) return '[nested too deep]'
  if ('stringValue' in v) return str(v.stringValue, `${at}.stringValue`)
  if ('boolValue' in v) {
    if (typeof v.boolValue !== 'boolean') fail(`${at}.boolValue`, 'expected a boolean')
    return v.boolValue
  }
  if ('intValue' in v) {
    const i = v.intValue
    if (typeof i === 'number' && Number.isInteger(i)) return i
    if (typeof i === 'string' && /^-?\d{1,20}$/.test(i)) {
      const n = Number(i)
      return Number.isSafeInteger(n) ? n : i
    }
    fail(`${at}.intValue`, 'expected an integer')
  }
  if ('doubleValue' in v) {
    const d = v.doubleValue
    if (typeof d === 'number') return d
    if (typeof d === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(d)) return d
    fail(`${at}.doubleValue`, 'expected a number')
  }
  if ('bytesValue' in v) return str(v.bytesValue, `${at}.bytesValue`)
  if ('arrayValue' in v) {
    if (!isObject(v.arrayValue)) fail(`${at}.arrayValue`, 'expected an object')
    const values = list(v.arrayValue.values, `${at}.arrayValue.values`)
    const out: Value[] = []
    for (let i = 0; i < values.length && i < LIMITS.arrayItems; i++) {
      try {
        out.push(anyValue(values[i], '', depth + 1))
      } catch (e) {
        throw under(e, `${at}.arrayValue.values[${i}]`)
      }
    }
    return out
  }
  if ('kvlistValue' in v) {
    if (!isObject(v.kvlistValue)) fail(`${at}.kvlistValue`, 'expected an object')
    return attributes(v.kvlistValue.values, `${at}.kvlistValue.values`, depth + 1)
  }
  return null // an empty AnyValue is allowed by the spec
}

/** `at`: the list's path relative to the caller's object (a constant). */
function attributes(v: unknown, at: string, depth = 0): Record<string, Value> {
  const out: Record<string, Value> = Object.create(null)
  const items = list(v, at)
  for (let i = 0; i < items.length && i < LIMITS.attributes; i++) {
    try {
      const kv = items[i]
      if (!isObject(kv)) fail('', 'expected {key, value}')
      const key = str(kv.key, '.key', LIMITS.name)
      out[key] = kv.value === undefined ? null : anyValue(kv.value, '.value', depth)
    } catch (e) {
      throw under(e, `${at}[${i}]`)
    }
  }
  return out
}

function enumOf<T>(v: unknown, path: string, byIndex: T[], byName: Record<string, T>, fallback: T): T {
  if (v === undefined || v === null) return fallback
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < byIndex.length) return byIndex[v]!
  if (typeof v === 'string' && v in byName) return byName[v]!
  fail(path, `unknown value ${JSON.stringify(v)}`)
}

function events(v: unknown): CollectedEvent[] {
  const items = list(v, '.events')
  const out: CollectedEvent[] = []
  for (let i = 0; i < items.length && i < LIMITS.events; i++) {
    try {
      const e = items[i]
      if (!isObject(e)) fail('', 'expected an event object')
      out.push({ name: str(e.name ?? '', '.name', LIMITS.name), timeUnixNano: nanos(e.timeUnixNano, '.timeUnixNano'), attributes: attributes(e.attributes, '.attributes') })
    } catch (e) {
      throw under(e, `.events[${i}]`)
    }
  }
  return out
}

/** One span; error paths relative to it. */
function span(v: unknown, service: string, resource: Record<string, Value>, scope: string | undefined): CollectedSpan {
  if (!isObject(v)) fail('', 'expected a span object')
  const start = nanos(v.startTimeUnixNano, '.startTimeUnixNano')
  const end = nanos(v.endTimeUnixNano, '.endTimeUnixNano')
  const durationNs = nanosBetween(start, end)
  if (durationNs < 0) fail('.endTimeUnixNano', 'ends before it starts')
  const parent = v.parentSpanId
  const status = isObject(v.status) ? v.status : {}
  const evs = events(v.events)
  const out: CollectedSpan = {
    traceId: id(v.traceId, '.traceId', 32),
    spanId: id(v.spanId, '.spanId', 16),
    name: str(v.name, '.name', LIMITS.name),
    kind: enumOf(v.kind, '.kind', KINDS, KIND_NAMES, 'unspecified'),
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    startMs: nanosToMs(start),
    durationMs: durationNs / 1e6,
    attributes: attributes(v.attributes, '.attributes'),
    events: evs,
    status: { code: enumOf(status.code, '.status.code', STATUSES, STATUS_NAMES, 'unset') },
    service,
    resource,
  }
  if (parent !== undefined && parent !== null && parent !== '') out.parentSpanId = id(parent, '.parentSpanId', 16)
  if (typeof v.traceState === 'string' && v.traceState !== '') out.traceState = cap(v.traceState, 512)
  if (status.message !== undefined && status.message !== '') out.status.message = str(status.message, '.status.message')
  if (scope !== undefined) out.scope = scope
  return out
}

/** The resource's `service.name`, as OTel names a service that gave none. */
export function serviceOf(resource: Record<string, Value>): string {
  const svc = resource['service.name']
  return typeof svc === 'string' && svc !== '' ? svc : 'unknown_service'
}

/**
 * Validates a parsed OTLP JSON body and returns its spans; throws OtlpDecodeError naming the
 * first bad field.
 */
export function decodeOtlpTraces(body: unknown): CollectedSpan[] {
  if (!isObject(body)) fail('body', 'expected a JSON object with resourceSpans')
  // `{}` is a valid empty export (OTLP JSON omits empty fields); anything else must say resourceSpans.
  if (body.resourceSpans === undefined && Object.keys(body).length > 0) fail('resourceSpans', 'missing')
  const out: CollectedSpan[] = []
  list(body.resourceSpans, 'resourceSpans').forEach((rs, r) => {
    const rp = `resourceSpans[${r}]`
    if (!isObject(rs)) fail(rp, 'expected an object')
    let resource: Record<string, Value> = {}
    try {
      if (isObject(rs.resource)) resource = attributes(rs.resource.attributes, '.resource.attributes')
    } catch (e) {
      throw under(e, rp)
    }
    const service = serviceOf(resource)
    // `instrumentationLibrarySpans` is the pre-1.0 name some old SDKs still send.
    list(rs.scopeSpans ?? rs.instrumentationLibrarySpans, `${rp}.scopeSpans`).forEach((ss, s) => {
      const sp = `${rp}.scopeSpans[${s}]`
      if (!isObject(ss)) fail(sp, 'expected an object')
      const scopeObj = ss.scope ?? ss.instrumentationLibrary
      const scope = isObject(scopeObj) && typeof scopeObj.name === 'string' ? cap(scopeObj.name, LIMITS.name) : undefined
      const spans = list(ss.spans, `${sp}.spans`)
      for (let i = 0; i < spans.length; i++) {
        try {
          out.push(span(spans[i], service, resource, scope))
        } catch (e) {
          throw under(e, `${sp}.spans[${i}]`)
        }
      }
    })
  })
  return out
}

/** An in-process attribute value as anyValue() would decode its OTLP encoding (otlp.ts encodeValue). */
function localValue(v: AttributeValue): Value {
  if (typeof v === 'string') return cap(v)
  if (typeof v === 'boolean') return v
  if (typeof v === 'number') {
    // intValue for safe integers (-0 travels as "0"); doubleValue; NaN and ±Infinity as text.
    if (Number.isSafeInteger(v)) return v === 0 ? 0 : v
    return Number.isFinite(v) ? v : String(v)
  }
  return v.slice(0, LIMITS.arrayItems).map((x) => localValue(x))
}

/** In-process attributes as attributes() would decode their OTLP encoding: unset ones left out, capped. */
function localAttributes(attrs: Attributes): Record<string, Value> {
  const out: Record<string, Value> = Object.create(null)
  let n = 0
  for (const key in attrs) {
    const v = attrs[key]
    if (v === undefined || v === null) continue
    if (n++ >= LIMITS.attributes) break
    out[cap(key, LIMITS.name)] = localValue(v)
  }
  return out
}

/**
 * The collector's shape of spans recorded in this process (its sink), without the round trip
 * through OTLP JSON objects and their validation: the same result as decodeOtlpTraces() of
 * encodeTraces(resource, spans) with scope `scope`. Throws OtlpDecodeError like it for a span
 * that ends before it starts.
 */
export function collectLocalSpans(resource: Attributes, scope: string, spans: readonly SpanData[]): CollectedSpan[] {
  const res = localAttributes(resource)
  const service = serviceOf(res)
  const out: CollectedSpan[] = []
  for (const s of spans) {
    const startNs = msToNanos(s.startMs)
    const endNs = msToNanos(s.endMs)
    const durationNs = nanosBetween(startNs, endNs)
    if (durationNs < 0) fail(`span ${s.spanId}.endTimeUnixNano`, 'ends before it starts')
    const c: CollectedSpan = {
      traceId: s.traceId,
      spanId: s.spanId,
      name: cap(s.name, LIMITS.name),
      kind: s.kind,
      startTimeUnixNano: startNs,
      endTimeUnixNano: endNs,
      startMs: nanosToMs(startNs),
      durationMs: durationNs / 1e6,
      attributes: localAttributes(s.attributes),
      events: s.events.length === 0 ? [] : s.events.slice(0, LIMITS.events).map((e) => ({ name: cap(e.name, LIMITS.name), timeUnixNano: msToNanos(e.timeMs), attributes: localAttributes(e.attributes) })),
      status: { code: s.status.code },
      service,
      resource: res,
    }
    if (s.parentSpanId) c.parentSpanId = s.parentSpanId
    if (s.traceState) c.traceState = cap(s.traceState, 512)
    if (s.status.message !== undefined && s.status.message !== '') c.status.message = cap(s.status.message)
    c.scope = scope
    out.push(c)
  }
  return out
}
