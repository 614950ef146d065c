// Cookie header parsing and Set-Cookie serialisation (RFC 6265).
import { HttpError } from './http-error.ts'

/** 'a=1; b="2"' → { a: '1', b: '2' }. The first of duplicate names wins (the most specific path). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  if (!header) return out
  let start = 0
  const len = header.length
  while (start < len) {
    let end = header.indexOf(';', start)
    if (end === -1) end = len
    const eq = header.indexOf('=', start)
    if (eq !== -1 && eq < end) {
      const name = header.slice(start, eq).trim()
      let value = header.slice(eq + 1, end).trim()
      if (value.length > 1 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1)
      if (name !== '' && !(name in out)) {
        if (value.indexOf('%') !== -1) {
          try { value = decodeURIComponent(value) } catch { /* keep it as sent */ }
        }
        out[name] = value
      }
    }
    start = end + 1
  }
  return out
}

export interface CookieOptions {
  /** Seconds; 0 or negative expires it now. */
  maxAge?: number
  expires?: Date
  path?: string
  domain?: string
  secure?: boolean
  /** Default true: scripts cannot read the cookie. */
  httpOnly?: boolean
  /** Default 'Lax'. 'None' requires secure. */
  sameSite?: 'Strict' | 'Lax' | 'None' | false
  partitioned?: boolean
}

/**
 * The options of a cookie a middleware sets from its `<PREFIX>_COOKIE_PATH/DOMAIN/SECURE/HTTPONLY/SAMESITE`
 * settings (Django's naming for the session and CSRF cookies); '' domain and samesite mean "not sent".
 * @example cookieOptionsFromSettings(settings, 'SESSION') // { path: '/', domain: undefined, secure: false, httpOnly: true, sameSite: 'Lax' }
 */
export function cookieOptionsFromSettings(settings: Record<string, any>, prefix: string): CookieOptions {
  return {
    path: settings[`${prefix}_COOKIE_PATH`],
    domain: settings[`${prefix}_COOKIE_DOMAIN`] || undefined,
    secure: settings[`${prefix}_COOKIE_SECURE`],
    httpOnly: settings[`${prefix}_COOKIE_HTTPONLY`],
    sameSite: (settings[`${prefix}_COOKIE_SAMESITE`] || false) as CookieOptions['sameSite'],
  }
}

const NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const DOMAIN_RE = /^\.?[a-z0-9.-]+$/i
const PATH_RE = /^[\x20-\x3a\x3c-\x7e]*$/ // printable, no ';'

/**
 * @example
 * serializeCookie('theme', 'dark', { maxAge: 3600 }) // 'theme=dark; Max-Age=3600; Expires=…; Path=/; HttpOnly; SameSite=Lax'
 */
export function serializeCookie(name: string, value: string, opts: CookieOptions = {}): string {
  if (!NAME_RE.test(name)) throw new HttpError(500, `Invalid cookie name ${JSON.stringify(name)}`, { expose: false })
  let s = `${name}=${encodeURIComponent(value)}`
  if (opts.maxAge !== undefined) {
    const age = Math.floor(opts.maxAge)
    s += `; Max-Age=${Math.max(0, age)}; Expires=${(opts.expires ?? new Date(Date.now() + Math.max(0, age) * 1000)).toUTCString()}`
  } else if (opts.expires) {
    s += `; Expires=${opts.expires.toUTCString()}`
  }
  const path = opts.path ?? '/'
  if (!PATH_RE.test(path)) throw new HttpError(500, `Invalid cookie path ${JSON.stringify(path)}`, { expose: false })
  s += `; Path=${path}`
  if (opts.domain) {
    if (!DOMAIN_RE.test(opts.domain)) throw new HttpError(500, `Invalid cookie domain ${JSON.stringify(opts.domain)}`, { expose: false })
    s += `; Domain=${opts.domain}`
  }
  const sameSite = opts.sameSite ?? 'Lax'
  if (opts.secure || sameSite === 'None' || opts.partitioned) s += '; Secure'
  if (opts.httpOnly !== false) s += '; HttpOnly'
  if (sameSite) s += `; SameSite=${sameSite}`
  if (opts.partitioned) s += '; Partitioned'
  return s
}
