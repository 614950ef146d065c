// The shop, the reference app of the seed article: the default export is the app the app server
// runs (`causeway up` / `causeway serve` import it in every worker).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  createApp, path, include, authUrls,
  securityMiddleware, createSessionMiddleware, commonMiddleware, csrfMiddleware, authenticationMiddleware,
  messageMiddleware, gzipMiddleware, conditionalGetMiddleware, xFrameOptionsMiddleware, journeyWhoamiView, RedisSessionStore,
} from 'causeway/web'
import { setup, closeAll } from 'causeway/db'
import { PROJECT_DIR, dataDir, secretKey } from './local.ts'
import config from './causeway.config.ts'
import { productList, productDetail, cartAdd, cartDetail } from './views.ts'

const STATIC_ROOT = join(dataDir(), 'static')
const MANIFEST = join(STATIC_ROOT, 'staticfiles.json')

export const urlpatterns = [
  path('', productList, { name: 'home' }),
  path('products/', productList, { name: 'product_list' }),
  path('products/<slug:slug>/', productDetail, { name: 'product_detail' }),
  path('cart/', cartDetail, { name: 'cart' }),
  path('cart/add/<slug:slug>/', cartAdd, { name: 'cart_add' }),
  path('accounts/', include(authUrls())),
  // The edge asks this (with the visitor's cookie) whether the journey dashboard may be shown.
  path('_causeway/whoami', journeyWhoamiView(), { name: 'journey_whoami' }),
]

// Sessions in the database (SQLite is shared by every worker), or in Redis when REDIS_URL is set.
// Never in process memory: a killed worker must not log anyone out.
const redisSessions = process.env.REDIS_URL ? new RedisSessionStore({ url: process.env.REDIS_URL, prefix: 'shop:session:' }) : undefined

export default createApp({
  urls: urlpatterns,
  // Django's order, outermost first: the seed's trace reads top to bottom on the way in
  // (session loaded, user attached) and bottom to top on the way out (nosniff, then gzip last
  // on the body). Conditional GET sits inside gzip so its ETag is the uncompressed body's.
  middleware: [
    securityMiddleware, createSessionMiddleware(redisSessions ? { store: redisSessions } : {}), commonMiddleware, csrfMiddleware, authenticationMiddleware,
    messageMiddleware, xFrameOptionsMiddleware, gzipMiddleware, conditionalGetMiddleware,
  ],
  settings: {
    SECRET_KEY: secretKey(),
    ALLOWED_HOSTS: ['localhost', '127.0.0.1', '[::1]'],
    TEMPLATE_DIRS: ['templates'],
    STATICFILES_DIRS: ['static'],
    STATIC_ROOT,
    // collectstatic (run by `causeway up`) writes the manifest; without it static() falls back
    // to the plain names, which collectstatic also copies.
    STATIC_MANIFEST: existsSync(MANIFEST) ? MANIFEST : '',
    LOGIN_REDIRECT_URL: '/',
    LOGOUT_REDIRECT_URL: '/',
    // Every page shows the signed-in user: load it before the view, so its query and the view's
    // leave together (one PostgreSQL round trip after the session read, docs/web-auth.md).
    AUTH_PRELOAD_USER: true,
  },
  root: PROJECT_DIR,
  // The config's db section (url from DATABASE_URL, pipeline), as `causeway migrate` reads it.
  onReady: () => { setup(config.db, PROJECT_DIR) },
  onClose: async () => {
    await redisSessions?.close()
    await closeAll()
  },
})
