// The auth settings (Django's names), declared by the authentication middleware.
import type { SettingsTable } from '../../settings-table.ts'

export const authSettingsTable = {
  LOGIN_URL: { type: 'string', default: '/accounts/login/', description: 'Where loginRequired sends anonymous users (with ?next=the page); a path or a URL name.' },
  LOGIN_REDIRECT_URL: { type: 'string', default: '/', description: 'Where LoginView goes after a login when no safe ?next= was given; a path or a URL name.' },
  LOGOUT_REDIRECT_URL: { type: 'string', default: '', description: "Where LogoutView goes after logging out; '' renders registration/logged_out.html." },
  AUTH_PRELOAD_USER: {
    type: 'boolean', default: false,
    description: "Load the signed-in user as each request with a session cookie comes in, before the view runs, instead of on the first req.state.auser(): the session is read first, then the user's query is sent together with the view's first queries (one database round trip for both with db.pipeline). For apps whose every page shows the user; those responses then vary on Cookie. Off (Django's lazy user): a page that never asks for the user costs nothing.",
  },
  PASSWORD_SCRYPT_N: {
    type: 'int', default: 16384,
    validate: (v: number) => (v >= 2 && (v & (v - 1)) === 0 && v <= 2 ** 20 ? undefined : 'must be a power of two between 2 and 1048576'),
    description: 'scrypt cost N for new password hashes (r=8, p=1). Hashes made with a lower N are upgraded on the next login.',
  },
} satisfies SettingsTable

export const AUTH_DEFAULTS = { LOGIN_URL: '/accounts/login/', LOGIN_REDIRECT_URL: '/', LOGOUT_REDIRECT_URL: '' }
