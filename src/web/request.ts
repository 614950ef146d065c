// The request: a thin wrapper over node's IncomingMessage. Path and query split on '?' without a
// URL object; everything else (query, cookies, body, id) is computed on first use.
import type { IncomingMessage } from 'node:http'
import { randomBytes } from 'node:crypto'
import { CONNECTION_INFO, type ConnectionInfo } from '../contract.ts'
import { HttpError } from './http-error.ts'
import { parseQuery, type QueryDict } from './query.ts'
import { parseCookies } from './cookies.ts'
import { readBody, readMultipart, parseContentType, decodeText, removeDir, type MultipartData } from './body.ts'
import { cookieSalt, signerFor } from './signing.ts'
import type { AppRuntime, RequestState, ResolverMatch } from './types.ts'
import type { RecordingSpan } from '../journey/index.ts'

const ID_PREFIX = randomBytes(4).toString('hex')
let idCounter = 0

const bad = (msg: string) => new HttpError(400, msg)

/** The body, read once: as bytes (text, JSON, urlencoded) or as multipart (fields, files on disk). */
interface BodyRead {
  bytes?: Promise<Buffer>
  multipart?: Promise<MultipartData>
  /** The temporary directories of uploaded files, removed after the response. */
  tempDirs?: Promise<string>[]
}

/**
 * @example
 * const view: View = async (req) => {
 *   const q = req.query.get('q') ?? ''
 *   const data = await req.json() // 415 unless JSON, 400 if malformed, 413 if too large
 *   return json({ q, data })
 * }
 */
export class HttpRequest {
  readonly raw: IncomingMessage
  readonly method: string
  /** Percent-decoded path, no query ('/caf%C3%A9/' → '/café/'). */
  readonly path: string
  /** The path as sent. */
  readonly rawPath: string
  /** The query string without '?'. */
  readonly queryString: string
  readonly app: AppRuntime
  resolverMatch?: ResolverMatch
  /** This request's journey span when it is recorded; null: decided, not recorded (see journey.ts). */
  journeySpan: RecordingSpan | null | undefined = undefined
  #state?: RequestState
  /** Set when the path cannot be decoded (the app answers 400). */
  readonly pathError?: string

  #query?: QueryDict
  #cookies?: Record<string, string>
  #id?: string
  /** Set once the body is read: one field for what most requests (GET) never touch. */
  #body?: BodyRead

  constructor(raw: IncomingMessage, app: AppRuntime) {
    this.raw = raw
    this.app = app
    this.method = raw.method ?? 'GET'
    const url = raw.url ?? '/'
    const q = url.indexOf('?')
    this.rawPath = q === -1 ? url : url.slice(0, q)
    this.queryString = q === -1 ? '' : url.slice(q + 1)
    let path = this.rawPath
    if (path.indexOf('%') !== -1) {
      // Never throws here: the app answers 400 for `pathError` before any middleware runs.
      try {
        path = decodeURIComponent(path)
      } catch {
        this.pathError = 'Malformed percent-encoding in the path'
      }
    }
    if (path.charCodeAt(0) !== 47) {
      // absolute-form ('http://host/p') or '*': keep only the path
      const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(path)
      path = m ? (m[1] ?? '/') : '/' + path
    }
    this.path = path
  }

  /** Typed per-request state (session, user, csrfToken… added by middleware). */
  get state(): RequestState {
    return (this.#state ??= {})
  }

  get headers(): IncomingMessage['headers'] {
    return this.raw.headers
  }

  /** One header as a string (repeated headers joined with ', '), or undefined. */
  header(name: string): string | undefined {
    const v = this.raw.headers[name.toLowerCase()]
    return Array.isArray(v) ? v.join(', ') : v
  }

  get query(): QueryDict {
    return (this.#query ??= parseQuery(this.queryString, this.app.settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
  }

  get cookies(): Record<string, string> {
    return (this.#cookies ??= parseCookies(this.raw.headers.cookie))
  }

  /** A cookie set with `res.setSignedCookie`, or undefined when missing, tampered with or older than maxAge seconds. */
  signedCookie(name: string, opts: { salt?: string; maxAge?: number } = {}): string | undefined {
    const v = this.cookies[name]
    if (v === undefined) return undefined
    try {
      return signerFor(this.app.settings, cookieSalt(name, opts.salt)).unsign(v, { timestamp: true, maxAge: opts.maxAge })
    } catch {
      return undefined
    }
  }

  /** The Host header (the app has checked it against ALLOWED_HOSTS before any middleware runs). */
  get host(): string {
    const h = this.raw.headers.host
    if (h) return h.toLowerCase()
    const s = this.raw.socket
    return s?.localAddress ? (s.localAddress.includes(':') ? `[${s.localAddress}]:${s.localPort}` : `${s.localAddress}:${s.localPort}`) : ''
  }

  get #info(): ConnectionInfo | undefined {
    return (this.raw as unknown as Record<symbol, ConnectionInfo | undefined>)[CONNECTION_INFO]
  }

  /** 'https' when the app server says so (after its trusted-proxy rules) or the socket is TLS. Never from headers. */
  get scheme(): 'http' | 'https' {
    const info = this.#info
    if (info) return info.scheme
    return (this.raw.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http'
  }

  get isSecure(): boolean {
    return this.scheme === 'https'
  }

  /** The client address from the app server, else the socket peer. Never from X-Forwarded-For. */
  get clientAddress(): string {
    return this.#info?.clientAddress ?? this.raw.socket?.remoteAddress ?? ''
  }

  /** The request id given by the app server, else one made here (unique per process). */
  get id(): string {
    return (this.#id ??= this.#info?.requestId ?? `${ID_PREFIX}-${(++idCounter).toString(36)}`)
  }

  /** path + '?' + query as sent. */
  get fullPath(): string {
    return this.raw.url ?? '/'
  }

  /** The absolute URL of `location` (default: this request's own). */
  absoluteUrl(location?: string): string {
    if (location && /^[a-z][a-z0-9+.-]*:/i.test(location)) return location
    return `${this.scheme}://${this.host}${location ?? this.fullPath}`
  }

  get contentType(): string {
    return parseContentType(this.raw.headers['content-type'])[0]
  }

  #bytes(): Promise<Buffer> {
    const body = (this.#body ??= {})
    if (body.multipart) return Promise.reject(new HttpError(500, 'The body was already read as multipart', { expose: false }))
    return (body.bytes ??= readBody(this.raw, this.app.settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
  }

  /** The body as a string (charset from Content-Type, default UTF-8). Over DATA_UPLOAD_MAX_MEMORY_SIZE → 413. */
  async text(): Promise<string> {
    const buf = await this.#bytes()
    return decodeText(buf, parseContentType(this.raw.headers['content-type'])[1])
  }

  /** The body parsed as JSON: 415 unless Content-Type is application/json (or +json), 400 when malformed. */
  async json<T = unknown>(): Promise<T> {
    const type = this.contentType
    if (type !== 'application/json' && !type.endsWith('+json')) {
      throw new HttpError(415, `Expected Content-Type: application/json, got ${type ? `'${type}'` : 'none'}`)
    }
    const text = await this.text()
    if (text.trim() === '') throw bad('Malformed JSON: the body is empty')
    try {
      return JSON.parse(text) as T
    } catch (e) {
      throw bad(`Malformed JSON: ${(e as Error).message}`)
    }
  }

  /** Form fields from an urlencoded or multipart body (files: `multipart()`); other types → 415. */
  async form(): Promise<QueryDict> {
    const type = this.contentType
    if (type === 'application/x-www-form-urlencoded') {
      const text = await this.text()
      if (/%(?![0-9a-f]{2})/i.test(text)) throw bad('Malformed form data: broken percent-encoding')
      return parseQuery(text, this.app.settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
    }
    if (type === 'multipart/form-data') return (await this.multipart()).fields
    throw new HttpError(415, `Expected a form (application/x-www-form-urlencoded or multipart/form-data), got ${type ? `'${type}'` : 'no Content-Type'}`)
  }

  /** multipart/form-data fields and files; files are streamed to disk and removed after the response. */
  multipart(): Promise<MultipartData> {
    const body = (this.#body ??= {})
    if (body.multipart) return body.multipart
    if (this.contentType !== 'multipart/form-data') {
      return Promise.reject(new HttpError(415, `Expected Content-Type: multipart/form-data, got '${this.contentType || 'none'}'`))
    }
    if (body.bytes) return Promise.reject(new HttpError(500, 'The body was already read as text', { expose: false }))
    const s = this.app.settings
    body.multipart = readMultipart(this.raw, {
      maxMemory: s.DATA_UPLOAD_MAX_MEMORY_SIZE,
      maxFields: s.DATA_UPLOAD_MAX_NUMBER_FIELDS,
      maxFileSize: s.FILE_UPLOAD_MAX_SIZE,
      maxFiles: s.FILE_UPLOAD_MAX_NUMBER_FILES,
      tempDir: s.FILE_UPLOAD_TEMP_DIR,
    }, (dir) => (body.tempDirs ??= []).push(dir))
    return body.multipart
  }

  /** True when something (uploaded files) must be removed after the response. */
  get needsCleanup(): boolean {
    return this.#body?.multipart !== undefined
  }

  /** Removes uploaded files. The app calls this once the response has been sent. */
  async cleanup(): Promise<void> {
    const body = this.#body
    if (!body) return
    if (body.multipart) await body.multipart.catch(() => undefined)
    const dirs = body.tempDirs
    body.tempDirs = undefined
    if (dirs) await Promise.all(dirs.map((d) => d.then(removeDir, () => undefined)))
  }
}
