// On-the-fly compression (nginx `gzip`/`brotli`): decided when the response head goes out, so it
// applies to every action (proxied responses included) without the action knowing. Skips HEAD,
// bodiless and partial responses, already-encoded bodies, `no-transform`, types not configured,
// and bodies known to be smaller than `minSize`. Adds `Vary: Accept-Encoding` and weakens ETags.
import { createBrotliCompress, createGzip, constants as z, type BrotliCompress, type Gzip } from 'node:zlib'
import type { EdgeContext, EdgeResponse } from '../context.ts'
import { negotiateEncoding, type Coding } from './accept-encoding.ts'
import { onHeaders } from './on-headers.ts'

export interface CompressionSettings {
  enabled: boolean
  types: string[]
  minSize: number
  encodings: string[]
  gzipLevel: number
  brotliQuality: number
}

/** Adds `value` to a comma-separated header unless it is already listed. */
export function appendVary(res: EdgeResponse, value: string): void {
  const cur = res.getHeader('vary')
  if (cur === undefined) { res.setHeader('vary', value); return }
  const s = Array.isArray(cur) ? cur.join(', ') : String(cur)
  if (s === '*' || s.toLowerCase().split(',').some((v) => v.trim() === value.toLowerCase())) return
  res.setHeader('vary', `${s}, ${value}`)
}

type Write = (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean
type End = (chunk?: unknown, encoding?: unknown, cb?: unknown) => unknown
type Compressor = Gzip | BrotliCompress

/**
 * The filter: `filter(ctx)` before an action runs installs it for when the head goes out (it hooks
 * writeHead); `filter.atHead(ctx, status)` is for an action that sets the whole head itself (the
 * proxy) and calls it just before `writeHead(status)`: nothing is hooked, and `write`/`end` are
 * redirected only when the response is compressed.
 */
export interface CompressionFilter {
  (ctx: EdgeContext): void
  atHead(ctx: EdgeContext, status: number): void
}

/**
 * Builds the filter once; per request it applies only when the client accepts an offered coding.
 * Returns null when compression is disabled.
 * @example const filter = createCompressionFilter(settings.compression); filter?.(ctx)
 */
export function createCompressionFilter(s: CompressionSettings): CompressionFilter | null {
  if (!s.enabled) return null
  const types = new Set(s.types)
  const offered = s.encodings as Coding[]

  /** The coding the client takes for this request, or null (HEAD, no or no usable Accept-Encoding). */
  const accepted = (ctx: EdgeContext): Coding | null => {
    const req = ctx.req
    if (req.method === 'HEAD') return null
    const ae = req.headers['accept-encoding']
    return ae ? negotiateEncoding(ae, offered) : null
  }

  /**
   * With the head in place on `res`: when the response qualifies, switches its headers to `coding`
   * and returns the compressor feeding `write`/`end` (the response's own); else null.
   * `endLength`: the body's size when the action ended with it before the head (-1 = unknown).
   */
  const begin = (ctx: EdgeContext, coding: Coding, status: number, endLength: number, write: Write, end: End): Compressor | null => {
    const res = ctx.res
    if (status < 200 || status === 204 || status === 206 || status === 304) return null
    if (res.getHeader('content-encoding') !== undefined || res.getHeader('content-range') !== undefined) return null
    const type = String(res.getHeader('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase()
    if (!types.has(type)) return null
    const cc = res.getHeader('cache-control')
    if (cc !== undefined && /no-transform/i.test(String(cc))) return null
    const len = res.getHeader('content-length')
    const known = len !== undefined ? Number(len) : endLength
    if (known >= 0 && known < s.minSize) return null
    res.removeHeader('content-length')
    res.setHeader('content-encoding', coding)
    appendVary(res, 'Accept-Encoding')
    const etag = res.getHeader('etag')
    if (typeof etag === 'string' && etag.startsWith('"')) res.setHeader('etag', `W/${etag}`)
    ctx.notes.compressed = coding
    // The journey's `compress` span starts here (monotonic ms, see src/edge/journey/trace.ts).
    if (ctx.trace !== undefined) ctx.notes.compressedAt = performance.now()
    const z0 = coding === 'br'
      ? createBrotliCompress({ params: { [z.BROTLI_PARAM_QUALITY]: s.brotliQuality, ...(known > 0 ? { [z.BROTLI_PARAM_SIZE_HINT]: known } : {}) } })
      : createGzip({ level: s.gzipLevel })
    z0.on('data', (chunk: Buffer) => { if (!write.call(res, chunk)) z0.pause() })
    z0.on('end', () => { end.call(res) })
    z0.on('error', () => res.destroy())
    z0.on('drain', () => res.emit('drain'))
    res.on('drain', () => z0.resume())
    res.on('close', () => { if (!z0.destroyed) z0.destroy() })
    return z0
  }

  /** `end` into the compressor: the response finishes when the compressor's output is written. */
  const endInto = (res: EdgeResponse, stream: Compressor, chunk: unknown, encoding: unknown, cb: unknown): EdgeResponse => {
    if (typeof cb === 'function') res.once('finish', cb as () => void)
    if (chunk != null) stream.end(chunk as Buffer, encoding as BufferEncoding)
    else stream.end()
    return res
  }

  const filter = ((ctx: EdgeContext): void => {
    const coding = accepted(ctx)
    if (coding === null) return
    const res = ctx.res
    const write = res.write as unknown as Write
    const end = res.end as unknown as End
    let stream: Compressor | null = null
    let endLength = -1
    onHeaders(res, () => { stream = begin(ctx, coding, res.statusCode, endLength, write, end) })

    const r = res as unknown as { write: Write; end: End }
    r.write = function (chunk, encoding, cb) {
      if (!res.headersSent) res.writeHead(res.statusCode)
      if (stream) return stream.write(chunk as Buffer, encoding as BufferEncoding, cb as () => void)
      return write.call(res, chunk, encoding, cb)
    }
    r.end = function (chunk, encoding, cb) {
      if (typeof chunk === 'function') { cb = chunk; chunk = undefined }
      if (typeof encoding === 'function') { cb = encoding; encoding = undefined }
      if (!res.headersSent) {
        endLength = chunk == null ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding as BufferEncoding) : (chunk as Buffer).length
        res.writeHead(res.statusCode)
      }
      if (stream) return endInto(res, stream, chunk, encoding, cb)
      return end.call(res, chunk, encoding, cb)
    }
  }) as CompressionFilter

  filter.atHead = (ctx, status) => {
    const coding = accepted(ctx)
    if (coding === null) return
    const res = ctx.res
    const write = res.write as unknown as Write
    const end = res.end as unknown as End
    const stream = begin(ctx, coding, status, -1, write, end)
    if (stream === null) return
    const r = res as unknown as { write: Write; end: End }
    r.write = (chunk, encoding, cb) => stream.write(chunk as Buffer, encoding as BufferEncoding, cb as () => void)
    r.end = (chunk, encoding, cb) => {
      if (typeof chunk === 'function') { cb = chunk; chunk = undefined }
      if (typeof encoding === 'function') { cb = encoding; encoding = undefined }
      return endInto(res, stream, chunk, encoding, cb)
    }
  }
  return filter
}
