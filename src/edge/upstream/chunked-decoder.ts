// Decodes a chunked response body (RFC 9112 §7.1) as bytes arrive, handing out the data as
// zero-copy slices of the socket's buffers. Chunk extensions and trailer fields are read and
// dropped (the proxy does not forward trailers, as nginx does not by default).

export class ChunkedDecodeError extends Error {
  readonly code = 'CW_UPSTREAM_BAD_RESPONSE'
}

const SIZE = 0
const DATA = 1
const DATA_CRLF = 2
const TRAILER = 3
const DONE = 4

/** A chunk-size line or trailer line longer than this is refused. */
const MAX_LINE = 4096

export class ChunkedDecoder {
  #state = SIZE
  #remaining = 0
  /** A size or trailer line split across reads. */
  #line = ''

  get done(): boolean {
    return this.#state === DONE
  }

  /**
   * Consumes `buf` from `start`; calls `sink.data` for each piece of body. Returns the offset after
   * the last body byte when the body ended inside `buf` (bytes after it are not the body's), else -1.
   */
  execute(buf: Buffer, start: number, sink: { data(chunk: Buffer): void }): number {
    let i = start
    const n = buf.length
    while (i < n) {
      switch (this.#state) {
        case SIZE:
        case TRAILER: {
          const lf = buf.indexOf(10, i)
          if (lf === -1) {
            this.#line += buf.toString('latin1', i, n)
            if (this.#line.length > MAX_LINE) throw new ChunkedDecodeError('malformed upstream response: chunk line too long')
            return -1
          }
          let line = this.#line + buf.toString('latin1', i, lf)
          this.#line = ''
          i = lf + 1
          if (line.length > MAX_LINE) throw new ChunkedDecodeError('malformed upstream response: chunk line too long')
          if (line.charCodeAt(line.length - 1) !== 13) throw new ChunkedDecodeError('malformed upstream response: bare LF in chunked body')
          line = line.slice(0, -1)
          if (this.#state === TRAILER) {
            if (line === '') {
              this.#state = DONE
              return i
            }
            continue
          }
          this.#remaining = chunkSize(line)
          this.#state = this.#remaining === 0 ? TRAILER : DATA
          break
        }
        case DATA: {
          const take = Math.min(this.#remaining, n - i)
          sink.data(i === 0 && take === n ? buf : buf.subarray(i, i + take))
          this.#remaining -= take
          i += take
          if (this.#remaining === 0) this.#state = DATA_CRLF
          break
        }
        case DATA_CRLF: {
          // CR then LF after each chunk's data; either may arrive in a later read.
          const c = buf[i]!
          if (this.#remaining === 0 && c === 13) { this.#remaining = -1; i++; break }
          if (c === 10 && this.#remaining === -1) { this.#remaining = 0; this.#state = SIZE; i++; break }
          throw new ChunkedDecodeError('malformed upstream response: missing CRLF after chunk data')
        }
        default:
          return i
      }
    }
    return this.#state === DONE ? i : -1
  }
}

function chunkSize(line: string): number {
  const semi = line.indexOf(';')
  let hex = semi === -1 ? line : line.slice(0, semi)
  // BWS before an extension is tolerated, as most servers do.
  hex = hex.trimEnd()
  if (hex.length === 0 || hex.length > 12 || !/^[0-9a-fA-F]+$/.test(hex)) throw new ChunkedDecodeError(`malformed upstream response: chunk size ${JSON.stringify(line.slice(0, 20))}`)
  return parseInt(hex, 16)
}
