// render(req, name, context): Django's shortcut. A template rendered through the app's engine
// (context processors included) in an HTML response.
import { html, type HttpResponse, type ResponseInit } from '../response.ts'
import type { HttpRequest } from '../request.ts'

/**
 * @example
 * const product: View<{ slug: string }> = async (req, { slug }) =>
 *   render(req, 'shop/product.html', { product: await Product.objects.get({ slug }) })
 */
export function render(req: HttpRequest, name: string, context: Record<string, unknown> = {}, init?: ResponseInit): Promise<HttpResponse> {
  try {
    const engine = req.app.templates
    // An engine with renderThen (the app's own) builds the response in its last step: no
    // reaction here for a page that waits on its user. Another engine's output is wrapped.
    if (engine.renderThen !== undefined) {
      const res = engine.renderThen(name, context, req, (b) => html(b, init))
      return res instanceof Promise ? res : Promise.resolve(res)
    }
    const body = engine.render(name, context, req)
    // A synchronous render (no async context processor) answers without another await.
    return typeof body === 'string' ? Promise.resolve(html(body, init)) : Promise.resolve(body).then((b) => html(b, init))
  } catch (e) {
    return Promise.reject(e)
  }
}
