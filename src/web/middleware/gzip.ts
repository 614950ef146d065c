// GZipMiddleware (Django's) plus Brotli: compresses the response body on the way out when the
// client accepts it. In-memory bodies are compressed synchronously (one call, no stream setup);
// streamed bodies go through a zlib stream that flushes after every chunk, so a page streamed
// in parts still reaches the browser in parts.
import { brotliCompress, brotliCompressSync, constants as Z, createBrotliCompress, createGzip, gzip, type BrotliOptions, type ZlibOptions } from 'node:zlib'
import { createReadStream } from 'node:fs'
import { Readable, pipeline, type Transform } from 'node:stream'
import { FileBody, type HttpResponse } from '../response.ts'
import type { HttpRequest } from '../request.ts'
import type { Middleware } from '../types.ts'
import type { SettingsTable } from '../../settings-table.ts'
import { negotiateEncoding, type Coding } from './accept-encoding.ts'
import { patchVary } from './vary.ts'
import { gzipBody } from './gzip-engine.ts'
import { utf8Bytes } from '../utf8.ts'

const range = (lo: number, hi: number) => (v: number) => (Number.isInteger(v) && v >= lo && v <= hi ? undefined : `must be an integer from ${lo} to ${hi}`)

export const gzipSettingsTable = {
  GZIP_MIN_LENGTH: {
    type: 'size', default: 200,
    description: 'Bodies shorter than this many bytes are sent uncompressed (the headers would eat the gain). Streams are always compressed.',
  },
  GZIP_LEVEL: {
    type: 'int', default: 1, validate: range(1, 9),
    description: "gzip level, 1 (fast) to 9 (small). Default 1, nginx's gzip_comp_level for dynamic responses: a page is compressed on every request, and levels above 1 buy a few percent of size for up to ~2× the CPU (Django's GZipMiddleware uses 6).",
  },
  BROTLI_ENABLED: {
    type: 'boolean', default: true,
    description: "Offer Brotli ('br') to clients that accept it; off → gzip only.",
  },
  BROTLI_QUALITY: {
    type: 'int', default: 4, validate: range(0, 11),
    description: 'Brotli quality, 0 to 11. 4: ~15% smaller than gzip -6 for ~1.6× its CPU on a 20 KB page (~135 µs, bench/web-gzip.ts); 5+ costs more for little; 11 is for precompressed static files only.',
  },
} satisfies SettingsTable

// Already-compressed media: compressing again costs CPU for nothing.
const INCOMPRESSIBLE = /^(?:image\/(?!svg)|audio\/|video\/|font\/woff|application\/(?:zip|gzip|x-gzip|x-bzip2|x-xz|x-7z-compressed|x-rar-compressed|zstd|octet-stream\b.*;\s*compressed))/i
// No body (204/304), a byte range of the representation (206): never transformed.
const SKIP_STATUS = new Set([204, 206, 304])

export interface CompressOptions { minLength: number; level: number; quality: number; brotli: boolean }

// Above this size a body is compressed on libuv's thread pool: ~1 ms of CPU (a few hundred KB)
// would otherwise stall every other request on this worker.
const ASYNC_ABOVE = 64 * 1024

// zlib sets up a 32 KB window and a 64 KB hash table per call (~256 KB of state) whatever the
// input; for a small body that setup costs more than the compression. Synchronous bodies reuse
// one reset stream (gzip-engine.ts); the rest (thread pool, and the fallback) get a window sized
// to a small body (a window at least as large as the body loses no match) and a hash table to match.
function gzipOptions(level: number, size: number): ZlibOptions {
  if (size >= 16 * 1024) return { level }
  let windowBits = 9
  while (windowBits < 15 && 1 << windowBits < size) windowBits++
  return { level, windowBits, memLevel: Math.max(2, windowBits - 7) }
}

function zlibOptions(coding: Coding, o: CompressOptions, size: number): ZlibOptions | BrotliOptions {
  if (coding === 'gzip') return gzipOptions(o.level, size)
  return {
    params: {
      [Z.BROTLI_PARAM_QUALITY]: o.quality,
      [Z.BROTLI_PARAM_SIZE_HINT]: size,
      [Z.BROTLI_PARAM_MODE]: Z.BROTLI_MODE_TEXT,
    },
  }
}

function compressBuffer(buf: Uint8Array, coding: Coding, o: CompressOptions): Buffer | Promise<Buffer> {
  const opts = zlibOptions(coding, o, buf.byteLength)
  if (buf.byteLength <= ASYNC_ABOVE) return coding === 'gzip' ? gzipBody(buf, o.level, opts) : brotliCompressSync(buf, opts)
  return new Promise((resolve, reject) => {
    const done = (e: Error | null, out: Buffer) => (e ? reject(e) : resolve(out))
    if (coding === 'gzip') gzip(buf, opts, done)
    else brotliCompress(buf, opts, done)
  })
}

/** A compressor that flushes after each write: every chunk in is a decodable chunk out. */
function compressorStream(coding: Coding, o: CompressOptions): Transform {
  if (coding === 'gzip') return createGzip({ level: o.level, flush: Z.Z_SYNC_FLUSH })
  return createBrotliCompress({
    flush: Z.BROTLI_OPERATION_FLUSH,
    params: { [Z.BROTLI_PARAM_QUALITY]: o.quality, [Z.BROTLI_PARAM_MODE]: Z.BROTLI_MODE_TEXT },
  })
}

function sourceStream(body: Readable | AsyncIterable<string | Uint8Array> | FileBody): Readable {
  if (body instanceof FileBody) return createReadStream(body.path, { start: body.start, end: body.end })
  if (body instanceof Readable) return body
  return Readable.from(body, { objectMode: false })
}

function markEncoded(res: HttpResponse, coding: Coding): void {
  // The bytes differ from the uncompressed representation, so a strong validator would lie.
  const etag = res.headers['etag']
  if (typeof etag === 'string' && etag.startsWith('"')) res.headers['etag'] = 'W/' + etag
  res.headers['content-encoding'] = coding
  // Byte ranges would address the compressed bytes, which differ per request (nginx drops it too).
  delete res.headers['accept-ranges']
}

function setCompressed(res: HttpResponse, coding: Coding, original: Uint8Array, out: Buffer): HttpResponse {
  if (out.byteLength >= original.byteLength) return res // Django's rule: never send a bigger body
  res.body = out
  res.headers['content-length'] = String(out.byteLength)
  markEncoded(res, coding)
  return res
}

/** Compresses `res` in place for `coding` (unless that would not make it smaller). */
function compress(res: HttpResponse, coding: Coding, o: CompressOptions): HttpResponse | Promise<HttpResponse> {
  const body = res.body!
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const buf = typeof body === 'string' ? utf8Bytes(body) : body
    const out = compressBuffer(buf, coding, o)
    return out instanceof Promise ? out.then((b) => setCompressed(res, coding, buf, b)) : setCompressed(res, coding, buf, out)
  }
  const z = compressorStream(coding, o)
  // pipeline destroys the source when the writer gives up on z (client gone) and vice versa.
  pipeline(sourceStream(body as Readable | FileBody), z, () => {})
  res.body = z
  delete res.headers['content-length']
  markEncoded(res, coding)
  return res
}

function bodyLength(body: HttpResponse['body'], min: number): number | undefined {
  // A string's UTF-16 length is a lower bound of its UTF-8 length: only short ones need measuring.
  if (typeof body === 'string') return body.length >= min ? body.length : Buffer.byteLength(body)
  if (body instanceof Uint8Array) return body.byteLength
  if (body instanceof FileBody) return body.end - body.start + 1
  return undefined // a stream: length unknown, always worth compressing
}

/** The response phase, usable on its own (e.g. by the edge's response filters in a later issue). */
export function compressResponse(req: HttpRequest, res: HttpResponse, o: CompressOptions): HttpResponse | Promise<HttpResponse> {
  // A 304 must carry the Vary the 200 would have had (RFC 9110 §15.4.5), so caches keep variants apart.
  if (res.status === 304) { patchVary(res, 'Accept-Encoding'); return res }
  if (res.body === null || res.status < 200 || SKIP_STATUS.has(res.status) || req.method === 'HEAD') return res
  if (res.headers['content-encoding'] !== undefined) return res
  const len = bodyLength(res.body, o.minLength)
  if (len !== undefined && len < o.minLength) return res
  const type = res.headers['content-type']
  if (typeof type === 'string' && INCOMPRESSIBLE.test(type)) return res
  patchVary(res, 'Accept-Encoding')
  const coding = negotiateEncoding(req.header('accept-encoding'), o.brotli)
  return coding === null ? res : compress(res, coding, o)
}

/**
 * Compresses responses with Brotli or gzip by Accept-Encoding (Django's GZipMiddleware). Put it
 * first (outermost) in `middleware` so it sees the final body. Settings: GZIP_MIN_LENGTH,
 * GZIP_LEVEL, BROTLI_ENABLED, BROTLI_QUALITY. Beware BREACH: see docs/web-middleware.md.
 *
 * @example
 * createApp({ urls, middleware: [gzipMiddleware, conditionalGetMiddleware, commonMiddleware] })
 */
export const gzipMiddleware: Middleware = {
  name: 'gzip',
  settings: gzipSettingsTable,
  phases(settings) {
    const o: CompressOptions = {
      minLength: settings.GZIP_MIN_LENGTH ?? 200,
      level: settings.GZIP_LEVEL ?? 1,
      quality: settings.BROTLI_QUALITY ?? 4,
      brotli: settings.BROTLI_ENABLED ?? true,
    }
    return { response: (req, res) => compressResponse(req, res, o) }
  },
}
