// MessageMiddleware: a lazy MessageStore on req.state.messages; after the view, whatever is left
// unread is written back (session key '_messages' or the signed cookie 'messages').
import type { Middleware } from '../types.ts'
import type { WebSettings } from '../settings.ts'
import type { HttpRequest } from '../request.ts'
import type { HttpResponse } from '../response.ts'
import type { SettingsTable } from '../../settings-table.ts'
import { maybeSession } from '../sessions/session.ts'
import { MessageStore, decodeMessages, type Message } from './messages.ts'

const SESSION_KEY = '_messages'
const COOKIE_SALT = 'causeway.messages'
const MAX_COOKIE = 2048
// The request's store, for the response phase (req.state.messages is the app's to use).
const STORE = Symbol('causeway.messages.store')

export const messageSettingsTable = {
  MESSAGE_STORAGE: {
    type: 'string', default: 'cookie',
    validate: (v: string) => (v === 'cookie' || v === 'session' ? undefined : "must be 'cookie' or 'session'"),
    description: "Where messages wait for the next page: 'cookie' (signed, ~2 KB; the oldest are dropped beyond) or 'session' (needs the session middleware above).",
  },
  MESSAGE_COOKIE_NAME: { type: 'string', default: 'messages', description: 'Cookie for cookie storage.' },
  MESSAGE_LEVEL: { type: 'int', default: 20, description: 'Messages below this level are dropped (debug 10, info 20, success 25, warning 30, error 40).' },
} satisfies SettingsTable

/** The messages the request came with: from the session (a promise) or the signed cookie (at once). */
function loadMessages(req: HttpRequest, useSession: boolean, cookieName: string): Message[] | Promise<Message[]> {
  if (useSession) {
    const s = maybeSession(req)
    if (!s) return Promise.reject(new Error("MESSAGE_STORAGE 'session' needs the session middleware above the messages middleware"))
    return s.incoming === undefined ? [] : s.get(SESSION_KEY).then(decodeMessages)
  }
  const v = req.signedCookie(cookieName, { salt: COOKIE_SALT })
  if (v === undefined) return []
  try {
    return decodeMessages(JSON.parse(v))
  } catch {
    return []
  }
}

/** @example createApp({ urls, middleware: [sessionMiddleware, messageMiddleware] }) */
export const messageMiddleware: Middleware = {
  name: 'messages',
  settings: messageSettingsTable,
  phases(settings: WebSettings) {
    const useSession = settings.MESSAGE_STORAGE === 'session'
    const cookieName: string = settings.MESSAGE_COOKIE_NAME
    const minLevel: number = settings.MESSAGE_LEVEL
    const secure = !!settings.SESSION_COOKIE_SECURE
    // The common case (no message added or read) answers at once. A page that read its
    // messages (the shop's base template does, on every page) answers at once too with cookie
    // storage: only loading the older ones (cookie storage answers at once) or the session's
    // writes are async.
    const save = (req: HttpRequest, store: MessageStore, res: HttpResponse): HttpResponse | Promise<HttpResponse> => {
      if (store.added && !store.loadedOnce) {
        // Keep the older unread ones too.
        const loaded = store.loadNow()
        if (loaded instanceof Promise) return loaded.then(() => saveLoaded(req, store, res))
      }
      return saveLoaded(req, store, res)
    }
    const saveToSession = async (req: HttpRequest, left: Message[], res: HttpResponse): Promise<HttpResponse> => {
      const s = maybeSession(req)!
      if (left.length) await s.set(SESSION_KEY, left.map((m) => m.toJSON()))
      else if (s.incoming !== undefined && (await s.has(SESSION_KEY))) await s.delete(SESSION_KEY)
      return res
    }
    const saveLoaded = (req: HttpRequest, store: MessageStore, res: HttpResponse): HttpResponse | Promise<HttpResponse> => {
      const left = store.remaining()
      if (useSession) return saveToSession(req, left, res)
      if (left.length === 0) {
        if (req.cookies[cookieName] !== undefined) res.deleteCookie(cookieName)
        return res
      }
      // Beyond the cookie's room the oldest go first (Django's CookieStorage).
      let keep = left
      let encoded = JSON.stringify(keep.map((m) => m.toJSON()))
      while (encoded.length > MAX_COOKIE && keep.length > 1) {
        keep = keep.slice(1)
        encoded = JSON.stringify(keep.map((m) => m.toJSON()))
      }
      res.setSignedCookie(req, cookieName, encoded, { salt: COOKIE_SALT, secure, sameSite: 'Lax' })
      return res
    }
    return {
      request(req: HttpRequest): undefined {
        const store = new MessageStore(() => loadMessages(req, useSession, cookieName), minLevel)
        req.state.messages = store
        ;(req.state as Record<symbol, MessageStore>)[STORE] = store
        req.state.loadMessages = () => store.loadNow()
        return undefined
      },
      response(req: HttpRequest, res: HttpResponse): HttpResponse | Promise<HttpResponse> {
        const store = (req.state as Record<symbol, MessageStore | undefined>)[STORE]
        return store === undefined || (!store.added && !store.used) ? res : save(req, store, res)
      },
    }
  },
}
