// AuthenticationMiddleware: req.state.auser() loads the user on first call (one session read and
// one query); `req.state.user` holds it once loaded. Pages that never ask cost nothing — unless
// AUTH_PRELOAD_USER starts the load before the view, so the view's queries join the user's.
import type { Middleware } from '../types.ts'
import type { HttpRequest } from '../request.ts'
import { maybeSession } from '../sessions/session.ts'
import { authSettingsTable } from './settings.ts'
import { preloadUser, requestUser } from './auth.ts'
import { setPasswordHasherParams } from './hashers.ts'

const goOn = (): void => {}

/** @example createApp({ urls, middleware: [sessionMiddleware, csrfMiddleware, authenticationMiddleware] }) */
export const authenticationMiddleware: Middleware = {
  name: 'authentication',
  settings: authSettingsTable,
  phases(settings) {
    setPasswordHasherParams({ N: settings.PASSWORD_SCRYPT_N })
    const preload: boolean = settings.AUTH_PRELOAD_USER
    return {
      request(req: HttpRequest): Promise<void> | undefined {
        if (!maybeSession(req)) throw new Error('The authentication middleware needs the session middleware above it (middleware: [sessionMiddleware, …, authenticationMiddleware])')
        req.state.auser = () => requestUser(req)
        const sent = preload ? preloadUser(req) : undefined
        // The view runs once the user's query is out, or once the session could not be read: the
        // view runs all the same, and asking for the user fails there as it would have lazily.
        return sent === undefined ? undefined : sent.then(undefined, goOn)
      },
    }
  },
}
