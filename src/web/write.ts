// Puts an HttpResponse on a node ServerResponse: one writeHead with a flat header array and one
// end() for in-memory bodies; streams and files are piped with back-pressure.
import type { ServerResponse } from 'node:http'
// Imported, not the global: optimized code reads node's global Buffer through a generic lookup.
import { Buffer } from 'node:buffer'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FileBody, type HttpResponse } from './response.ts'
import { utf8Bytes } from './utf8.ts'

// A short string body goes to end() as it is: node sends it in one write with the head (measuring
// it first is cheap); a copy into bytes costs more than it saves there (~2,000 instructions per
// request for plaintext under callgrind).
const SMALL_STRING = 1024

/**
 * Flattens headers into node's raw [name, value, name, value…] form, with room for `extra` more
 * entries at the end (content-length). Sized before it is filled: an array grown by push() starts
 * with 17 slots, twice what a response usually needs.
 */
function flatHeaders(h: HttpResponse['headers'], extra: number): string[] {
  let size = extra
  for (const k in h) {
    const v = h[k]!
    size += typeof v === 'string' ? 2 : 2 * v.length
  }
  const flat = new Array<string>(size)
  let n = 0
  for (const k in h) {
    const v = h[k]!
    if (typeof v === 'string') {
      flat[n++] = k
      flat[n++] = v
    } else {
      for (let i = 0; i < v.length; i++) {
        flat[n++] = k
        flat[n++] = v[i]!
      }
    }
  }
  return flat
}

/**
 * Writes the response. Returns a promise only for streamed bodies (resolves when sent, rejects
 * when the stream fails after the headers went out: the connection is then destroyed).
 */
export function writeResponse(method: string, resp: HttpResponse, res: ServerResponse): void | Promise<void> {
  const body = resp.body
  const status = resp.status
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200)
  // An in-memory body without a Content-Length gets one.
  const measured = !noBody && resp.headers['content-length'] === undefined && (typeof body === 'string' || body === null || body instanceof Uint8Array)
  const flat = flatHeaders(resp.headers, measured ? 2 : 0)
  if (typeof body === 'string') {
    if (measured) {
      if (body.length > SMALL_STRING) {
        // Encoded once here: measuring it (Buffer.byteLength) and then having end() encode it
        // would walk the string twice.
        const bytes = utf8Bytes(body)
        setLast(flat, 'content-length', String(bytes.byteLength))
        res.writeHead(status, flat)
        res.end(bytes)
        return
      }
      setLast(flat, 'content-length', String(Buffer.byteLength(body)))
    }
    res.writeHead(status, flat)
    res.end(noBody ? undefined : body)
    return
  }
  if (body === null || body instanceof Uint8Array) {
    if (measured) setLast(flat, 'content-length', body === null ? '0' : String(body.byteLength))
    res.writeHead(status, flat)
    res.end(noBody || body === null ? undefined : body)
    return
  }
  if (method === 'HEAD' || noBody) {
    if (body instanceof Readable) body.destroy()
    res.writeHead(status, flat)
    res.end()
    return
  }
  res.writeHead(status, flat)
  if (body instanceof FileBody) return pipeline(createReadStream(body.path, { start: body.start, end: body.end }), res)
  return pipeline(body instanceof Readable ? body : Readable.from(body as AsyncIterable<string | Uint8Array>, { objectMode: false }), res)
}

/** Fills the two slots flatHeaders left at the end. */
function setLast(flat: string[], name: string, value: string): void {
  flat[flat.length - 2] = name
  flat[flat.length - 1] = value
}
