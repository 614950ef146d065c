// gzip for in-memory bodies with one long-lived zlib stream per level, reset after each body.
// gzipSync() builds a new stream for every call: a Transform (event emitter, stream state), a
// native handle, deflateInit (~256 KB of zlib state allocated and its hash table cleared) and the
// teardown of it all, which for a 2 KB page costs about as much CPU as the compression itself.
// A reset (deflateReset) keeps the allocations and only clears the state: the same gzip stream
// format out, every body compressed on its own (nothing of one body is seen by the next).
//
// It drives the stream's native handle directly (`_handle.writeSync`, `_writeState`), Node's
// internal interface that gzipSync itself uses (stable since Node 10). Should a Node version not
// have it, or anything go wrong with an engine, that level falls back to gzipSync for good.
import { constants as Z, createGzip, gzipSync, type Gzip, type ZlibOptions } from 'node:zlib'

interface NativeZlib {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void
  reset(): void
}

interface Engine {
  stream: Gzip
  handle: NativeZlib
  /** [avail_out, avail_in] after the last write (the handle writes them here). */
  state: Uint32Array
  failed: Error | null
}

// null: this level has no usable engine (fall back to gzipSync).
const engines = new Map<number, Engine | null>()

function engineFor(level: number): Engine | null {
  let e = engines.get(level)
  if (e !== undefined) return e
  e = null
  const stream = createGzip({ level })
  const s = stream as unknown as { _handle?: NativeZlib; _writeState?: unknown }
  if (s._handle && typeof s._handle.writeSync === 'function' && typeof s._handle.reset === 'function' && s._writeState instanceof Uint32Array) {
    const engine: Engine = { stream, handle: s._handle, state: s._writeState, failed: null }
    stream.on('error', (err: Error) => { engine.failed = err })
    e = engine
  } else {
    stream.close()
  }
  engines.set(level, e)
  return e
}

function drop(level: number, e: Engine): void {
  engines.set(level, null)
  try { e.stream.close() } catch { /* already closed */ }
}

/**
 * gzip of `buf` at `level`, byte-compatible with gzipSync (any gunzip reads it). `fallback` are
 * the options gzipSync gets when no engine can be used.
 * @example const out = gzipBody(Buffer.from(html), 1, { level: 1 })
 */
export function gzipBody(buf: Uint8Array, level: number, fallback: ZlibOptions): Buffer {
  const e = engineFor(level)
  if (e !== null) {
    const n = buf.byteLength
    // Above deflateBound (stored blocks: 5 bytes per 16 KB, the gzip header and trailer: 18).
    const out = Buffer.allocUnsafe(n + (n >>> 8) + 64)
    try {
      e.handle.writeSync(Z.Z_FINISH, buf, 0, n, out, 0, out.length)
      const availOut = e.state[0]!
      const availIn = e.state[1]!
      e.handle.reset()
      // With Z_FINISH, output space left over means the stream is complete.
      // A zlib error destroys the stream at once (the 'error' event itself comes later).
      if (e.failed === null && !e.stream.destroyed && availIn === 0 && availOut > 0) return out.subarray(0, out.length - availOut)
      drop(level, e)
    } catch {
      drop(level, e)
    }
  }
  return gzipSync(buf, fallback)
}
