// XFrameOptionsMiddleware (Django's clickjacking protection): X-Frame-Options on every response
// unless the view opted out or chose its own value.
import type { Middleware, View } from '../types.ts'
import type { HttpRequest } from '../request.ts'
import { xFrameSettingsTable } from './settings.ts'

const XFRAME = Symbol.for('causeway.xframe')
const CHOSEN = Symbol('causeway.xframe.view')

type Mark = 'exempt' | 'DENY' | 'SAMEORIGIN'
const mark = <V extends View<any>>(view: V, m: Mark): V => {
  ;(view as unknown as Record<symbol, Mark>)[XFRAME] = m
  return view
}

/** No X-Frame-Options for this view (pages meant to be embedded). @example path('widget/', xframeOptionsExempt(widget)) */
export const xframeOptionsExempt = <V extends View<any>>(view: V): V => mark(view, 'exempt')
/** X-Frame-Options: SAMEORIGIN for this view. */
export const xframeOptionsSameorigin = <V extends View<any>>(view: V): V => mark(view, 'SAMEORIGIN')
/** X-Frame-Options: DENY for this view. */
export const xframeOptionsDeny = <V extends View<any>>(view: V): V => mark(view, 'DENY')

/** @example createApp({ urls, middleware: [securityMiddleware, xFrameOptionsMiddleware] }) */
export const xFrameOptionsMiddleware: Middleware = {
  name: 'xFrameOptions',
  settings: xFrameSettingsTable,
  phases(settings) {
    const value: string = settings.X_FRAME_OPTIONS
    return {
      response(req: HttpRequest, res) {
        if (res.hasHeader('x-frame-options')) return res
        const m = (req.state as Record<symbol, Mark | undefined>)[CHOSEN]
        if (m === 'exempt') return res
        res.setHeader('x-frame-options', m ?? value)
        return res
      },
    }
  },
  view(req, view) {
    const m = (view as unknown as Record<symbol, Mark | undefined>)[XFRAME]
    if (m) (req.state as Record<symbol, Mark>)[CHOSEN] = m
  },
}
