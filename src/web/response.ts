// The response: status, lowercase headers, a body (string, bytes, stream or file) and cookies.
// Factories cover the usual kinds; `write.ts` puts it on the wire.
import type { Readable } from 'node:stream'
import { serializeCookie, type CookieOptions } from './cookies.ts'
import { cookieSalt, signerFor } from './signing.ts'
import type { HttpRequest } from './request.ts'

export type HeaderValue = string | string[]
export type Headers = Record<string, HeaderValue>

/** A byte range of a file on disk, streamed when the response is written. */
export class FileBody {
  constructor(readonly path: string, readonly start: number, readonly end: number) {}
}

export type ResponseBody = string | Buffer | Uint8Array | Readable | AsyncIterable<string | Uint8Array> | FileBody | null

export interface ResponseInit {
  status?: number
  headers?: Record<string, HeaderValue | number>
}

/**
 * @example
 * const res = new HttpResponse('<p>hi</p>', { status: 201, headers: { 'content-type': 'text/html; charset=utf-8' } })
 * res.setCookie('seen', '1', { maxAge: 3600 })
 */
export class HttpResponse {
  status: number
  headers: Headers
  body: ResponseBody

  constructor(body: ResponseBody = null, init?: ResponseInit, contentType?: string) {
    this.body = body
    this.status = init?.status ?? 200
    const headers: Headers = {}
    if (contentType !== undefined) headers['content-type'] = contentType
    const given = init?.headers
    if (given !== undefined) {
      for (const k in given) {
        const v = given[k]!
        headers[k.toLowerCase()] = typeof v === 'number' ? String(v) : v
      }
    }
    this.headers = headers
  }

  setHeader(name: string, value: HeaderValue | number): this {
    this.headers[name.toLowerCase()] = typeof value === 'number' ? String(value) : value
    return this
  }
  getHeader(name: string): HeaderValue | undefined {
    return this.headers[name.toLowerCase()]
  }
  hasHeader(name: string): boolean {
    return this.headers[name.toLowerCase()] !== undefined
  }
  deleteHeader(name: string): this {
    delete this.headers[name.toLowerCase()]
    return this
  }
  /** Adds a value to a header (Vary, Set-Cookie…) instead of replacing it. */
  appendHeader(name: string, value: string): this {
    const k = name.toLowerCase()
    const cur = this.headers[k]
    if (cur === undefined) this.headers[k] = k === 'set-cookie' ? [value] : value
    else if (Array.isArray(cur)) cur.push(value)
    else this.headers[k] = k === 'set-cookie' ? [cur, value] : `${cur}, ${value}`
    return this
  }

  /** Sets a cookie. Defaults: Path=/, HttpOnly, SameSite=Lax. */
  setCookie(name: string, value: string, opts?: CookieOptions): this {
    return this.appendHeader('set-cookie', serializeCookie(name, value, opts))
  }

  /** Tells the client to drop a cookie (path and domain must match the ones it was set with). */
  deleteCookie(name: string, opts: Pick<CookieOptions, 'path' | 'domain' | 'secure' | 'sameSite'> = {}): this {
    return this.appendHeader('set-cookie', serializeCookie(name, '', { ...opts, maxAge: 0, expires: new Date(0) }))
  }

  /**
   * Sets a cookie whose value is signed with SECRET_KEY (HMAC-SHA256, timestamped). Read it back
   * with `req.signedCookie(name, { salt, maxAge })`, which refuses tampered values.
   */
  setSignedCookie(req: HttpRequest, name: string, value: string, opts: CookieOptions & { salt?: string } = {}): this {
    const signed = signerFor(req.app.settings, cookieSalt(name, opts.salt)).sign(value, { timestamp: true })
    return this.setCookie(name, signed, opts)
  }
}

// Resolving a promise with an object looks up its `then` (is it a thenable?). Each response
// passes through several promises per request (every layer of the onion), and without this the
// lookup walks HttpResponse.prototype and Object.prototype each time; found here, it stops one
// level up. Non-enumerable and undefined: a response is still not a thenable, and keys/JSON/
// deepEqual do not see it.
Object.defineProperty(HttpResponse.prototype, 'then', { value: undefined, writable: false, enumerable: false, configurable: false })

const HTML = 'text/html; charset=utf-8'
const TEXT = 'text/plain; charset=utf-8'
const JSON_TYPE = 'application/json'

/** @example html('<h1>Hello</h1>') */
export function html(body: string, init?: ResponseInit): HttpResponse {
  return new HttpResponse(body, init, HTML)
}

/** @example text('ok', { status: 202 }) */
export function text(body: string, init?: ResponseInit): HttpResponse {
  return new HttpResponse(body, init, TEXT)
}

/** @example json({ id: 1 }, { status: 201 }) */
export function json(value: unknown, init?: ResponseInit): HttpResponse {
  const body = JSON.stringify(value)
  return new HttpResponse(body === undefined ? 'null' : body, init, JSON_TYPE)
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** @example redirect('/login/?next=/cart/') // 302; redirect(url, 301) for permanent, 307/308 to keep the method */
export function redirect(url: string, status = 302, init?: Omit<ResponseInit, 'status'>): HttpResponse {
  if (!REDIRECTS.has(status)) throw new TypeError(`redirect status must be 301, 302, 303, 307 or 308, got ${status}`)
  if (/[\r\n\0]/.test(url)) throw new TypeError('redirect URL contains a control character')
  const res = new HttpResponse('', { ...init, status })
  res.headers['location'] = url
  return res
}

/** A response streamed from an async iterable or Readable (chunked encoding). */
export function stream(body: AsyncIterable<string | Uint8Array> | Readable, init?: ResponseInit & { contentType?: string }): HttpResponse {
  return new HttpResponse(body, init, init?.contentType ?? 'application/octet-stream')
}
