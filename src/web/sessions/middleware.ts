// SessionMiddleware: puts a lazy Session on req.state.session; on the way out saves it when it
// changed and sets (or deletes) the cookie. No store access unless the view touched the session.
import type { Middleware } from '../types.ts'
import type { WebSettings } from '../settings.ts'
import type { HttpRequest } from '../request.ts'
import type { HttpResponse } from '../response.ts'
import { cookieOptionsFromSettings, type CookieOptions } from '../cookies.ts'
import { ConfigError } from '../../errors.ts'
import { Session, type SessionPolicy } from './session.ts'
import type { SessionStore } from './store.ts'
import { sessionSettingsTable, type SessionEngine } from './settings.ts'
import { DbSessionStore } from './db-store.ts'
import { RedisSessionStore } from './redis-store.ts'
import { SignedCookieSessionStore } from './signed-cookie-store.ts'
import { CacheSessionStore, CachedDbSessionStore } from './cache-store.ts'
import { getDefaultCache, type Cache } from '../cache/cache.ts'

// Browsers cap a cookie at ~4 KB; anything longer is not ours.
const MAX_COOKIE_LENGTH = 8192
const OWN = Symbol('causeway.session.own')

export interface SessionMiddlewareOptions {
  /** A store to use instead of the one SESSION_ENGINE names. */
  store?: SessionStore
  /** The cache for the 'cache' and 'cached_db' engines (default: getDefaultCache()). */
  cache?: Cache
}

/** The store SESSION_ENGINE names. */
export function storeForSettings(settings: WebSettings, opts: SessionMiddlewareOptions = {}): SessionStore {
  const engine = settings.SESSION_ENGINE as SessionEngine
  switch (engine) {
    case 'db': return new DbSessionStore()
    case 'redis': return new RedisSessionStore({ url: settings.SESSION_REDIS_URL })
    case 'signed_cookies': return new SignedCookieSessionStore(settings)
    case 'cache': return new CacheSessionStore(opts.cache ?? getDefaultCache())
    case 'cached_db': return new CachedDbSessionStore(opts.cache ?? getDefaultCache())
    default: throw new ConfigError('app.SESSION_ENGINE', `unknown engine ${JSON.stringify(engine)}`)
  }
}

function addVaryCookie(res: HttpResponse): void {
  const v = res.getHeader('vary')
  const s = Array.isArray(v) ? v.join(', ') : v
  if (!s) res.setHeader('vary', 'Cookie')
  else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(s)) res.setHeader('vary', `${s}, Cookie`)
}

/**
 * @example
 * createApp({ urls, middleware: [securityMiddleware, sessionMiddleware, csrfMiddleware, authenticationMiddleware] })
 * createApp({ urls, middleware: [createSessionMiddleware({ store: new RedisSessionStore({ prefix: 'shop:' }) })] })
 */
export function createSessionMiddleware(opts: SessionMiddlewareOptions = {}): Middleware {
  return {
    name: 'session',
    settings: sessionSettingsTable,
    phases(settings) {
      const store = opts.store ?? storeForSettings(settings, opts)
      const name: string = settings.SESSION_COOKIE_NAME
      const policy: SessionPolicy = { age: settings.SESSION_COOKIE_AGE, idle: settings.SESSION_IDLE_TIMEOUT }
      const everyRequest: boolean = settings.SESSION_SAVE_EVERY_REQUEST
      const atBrowserClose: boolean = settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
      const cookieBase: CookieOptions = cookieOptionsFromSettings(settings, 'SESSION')
      // The response phase: Vary, then the cookie (deleted, or set after a save, which is async).
      const respond = (req: HttpRequest, session: Session, res: HttpResponse): HttpResponse | Promise<HttpResponse> => {
        if (!session.accessed) return res
        addVaryCookie(res)
        if (session.isEmpty) {
          // Flushed (logout) or emptied: the client should forget the cookie.
          if (req.cookies[name] !== undefined) res.deleteCookie(name, { path: cookieBase.path, domain: cookieBase.domain, secure: cookieBase.secure, sameSite: cookieBase.sameSite })
          return res
        }
        if (res.status >= 500 || !session.needsSave(everyRequest)) return res
        return session.save().then((value) => {
          const remaining = Math.max(0, Math.round((session.expiresAt - Date.now()) / 1000))
          res.setCookie(name, value, atBrowserClose ? cookieBase : { ...cookieBase, maxAge: remaining })
          return res
        })
      }
      return {
        request(req: HttpRequest): undefined {
          let incoming: string | undefined = req.cookies[name]
          if (incoming !== undefined && (incoming.length === 0 || incoming.length > MAX_COOKIE_LENGTH)) incoming = undefined
          const session = new Session(store, incoming, policy)
          req.state.session = session
          ;(req.state as Record<symbol, Session>)[OWN] = session
          return undefined
        },
        response(req: HttpRequest, res: HttpResponse): HttpResponse | Promise<HttpResponse> {
          const session = (req.state as Record<symbol, Session | undefined>)[OWN]
          return session === undefined ? res : respond(req, session, res)
        },
      }
    },
  }
}

/** SessionMiddleware with SESSION_ENGINE from the settings (default: the database). */
export const sessionMiddleware: Middleware = createSessionMiddleware()
