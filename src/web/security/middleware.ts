// SecurityMiddleware (Django's): HTTPS redirect, HSTS, nosniff, Referrer-Policy,
// Cross-Origin-Opener-Policy; and for apps run without Causeway's app server, the client address
// and scheme from X-Forwarded-* — only from TRUSTED_PROXIES.
import type { Middleware } from '../types.ts'
import type { WebSettings } from '../settings.ts'
import type { HttpRequest } from '../request.ts'
import { HttpResponse } from '../response.ts'
import { ConfigError } from '../../errors.ts'
import { CONNECTION_INFO, type ConnectionInfo } from '../../contract.ts'
import { CidrSet, clientAddressFrom } from '../../net/ip.ts'
import { securitySettingsTable } from './settings.ts'

function compileExempt(list: readonly string[]): RegExp[] {
  return list.map((p, i) => {
    try {
      return new RegExp(p)
    } catch (e) {
      throw new ConfigError(`app.SECURE_REDIRECT_EXEMPT[${i}]`, `not a regular expression: ${(e as Error).message}`)
    }
  })
}

/**
 * The proxy step: when the app server did not set CONNECTION_INFO (the app runs under another
 * server) and the peer is a trusted proxy, derive the client address (rightmost untrusted
 * X-Forwarded-For entry) and the scheme (SECURE_PROXY_SSL_HEADER) and record them where
 * `req.clientAddress` / `req.isSecure` read.
 */
function proxyStep(settings: WebSettings): ((req: HttpRequest) => void) | undefined {
  const proxies: string[] = settings.TRUSTED_PROXIES
  const sslHeader: string[] = settings.SECURE_PROXY_SSL_HEADER
  if (sslHeader.length !== 0 && sslHeader.length !== 2) throw new ConfigError('app.SECURE_PROXY_SSL_HEADER', "must be [header, value], e.g. ['x-forwarded-proto', 'https']")
  if (sslHeader.length === 2 && proxies.length === 0) throw new ConfigError('app.SECURE_PROXY_SSL_HEADER', 'needs TRUSTED_PROXIES: without it any client could claim HTTPS')
  if (proxies.length === 0) return undefined
  let trusted: CidrSet
  try {
    trusted = new CidrSet(proxies)
  } catch (e) {
    throw new ConfigError('app.TRUSTED_PROXIES', (e as Error).message)
  }
  const [hName, hValue] = sslHeader.length === 2 ? [sslHeader[0]!.toLowerCase(), sslHeader[1]!.toLowerCase()] : [undefined, undefined]
  return (req) => {
    const raw = req.raw as unknown as Record<symbol, ConnectionInfo | undefined>
    if (raw[CONNECTION_INFO]) return // the app server already applied its own trusted-proxy rules
    const peer = req.raw.socket?.remoteAddress ?? ''
    if (!trusted.has(peer)) return
    const encrypted = !!(req.raw.socket as { encrypted?: boolean } | null)?.encrypted
    let scheme: 'http' | 'https' = encrypted ? 'https' : 'http'
    if (hName) {
      // A comma list (several proxies) counts by its first entry, like Django.
      const v = req.header(hName)?.split(',')[0]?.trim().toLowerCase()
      if (v !== undefined) scheme = v === hValue ? 'https' : 'http'
    }
    raw[CONNECTION_INFO] = { clientAddress: clientAddressFrom(peer, req.raw.headers['x-forwarded-for'], trusted), scheme }
  }
}

/**
 * @example createApp({ urls, middleware: [securityMiddleware, …], settings: { SECURE_HSTS_SECONDS: 31536000, SECURE_SSL_REDIRECT: true } })
 */
export const securityMiddleware: Middleware = {
  name: 'security',
  settings: securitySettingsTable,
  // Phases, not wrap: the response phase shares the reaction of the phased layers around it
  // (middleware.ts PhasedRun) instead of costing its own `then` and boundary per request.
  phases(settings: WebSettings) {
    const proxy = proxyStep(settings)
    const exempt = compileExempt(settings.SECURE_REDIRECT_EXEMPT)
    const redirect: boolean = settings.SECURE_SSL_REDIRECT
    const sslHost: string = settings.SECURE_SSL_HOST
    let hsts = ''
    if (settings.SECURE_HSTS_SECONDS > 0) {
      hsts = `max-age=${settings.SECURE_HSTS_SECONDS}`
      if (settings.SECURE_HSTS_INCLUDE_SUBDOMAINS) hsts += '; includeSubDomains'
      if (settings.SECURE_HSTS_PRELOAD) hsts += '; preload'
    }
    const nosniff: boolean = settings.SECURE_CONTENT_TYPE_NOSNIFF
    const referrer: string = settings.SECURE_REFERRER_POLICY
    const coop: string = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
    // Without a proxy step or the HTTPS redirect there is no request phase to call.
    const request = proxy === undefined && !redirect ? undefined : (req: HttpRequest): HttpResponse | undefined => {
      if (proxy) proxy(req)
      if (redirect && !req.isSecure) {
        const p = req.path.replace(/^\//, '')
        if (!exempt.some((r) => r.test(p))) {
          const res = new HttpResponse('', { status: 301 })
          res.headers['location'] = `https://${sslHost || req.host}${req.fullPath.startsWith('/') ? req.fullPath : '/'}`
          return res
        }
      }
      return undefined
    }
    return {
      request,
      response(req: HttpRequest, res: HttpResponse): HttpResponse {
        if (hsts && req.isSecure && !res.hasHeader('strict-transport-security')) res.setHeader('strict-transport-security', hsts)
        if (nosniff && !res.hasHeader('x-content-type-options')) res.setHeader('x-content-type-options', 'nosniff')
        if (referrer && !res.hasHeader('referrer-policy')) res.setHeader('referrer-policy', referrer)
        if (coop && !res.hasHeader('cross-origin-opener-policy')) res.setHeader('cross-origin-opener-policy', coop)
        return res
      },
    }
  },
}
