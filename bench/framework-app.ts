// The app both framework benches serve (bench/servers.ts under wrk, bench/instructions.ts under
// callgrind): plaintext and JSON behind five no-op middleware, issue 2's benchmark shape, and the
// raw node:http handler it is compared with.
import type http from 'node:http'

export const MESSAGE = 'Hello, World!'

/** The raw node:http baseline: the same two answers written by hand. */
export const rawNodeHandler: http.RequestListener = (req, res) => {
  if (req.url === '/plaintext') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '13' })
    res.end(MESSAGE)
  } else if (req.url === '/json') {
    const body = JSON.stringify({ message: MESSAGE })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) })
    res.end(body)
  } else {
    res.writeHead(404).end()
  }
}

/** app.handle of a Causeway app with /plaintext, /json and five pass-through middleware. */
export async function frameworkBenchHandler(): Promise<http.RequestListener> {
  const { createApp, path, text, json } = await import('../src/web/index.ts')
  const noop = (name: string) => ({
    name,
    wrap: (next: (req: any) => Promise<any>) => async (req: any) => {
      const res = await next(req)
      return res
    },
  })
  const app = createApp({
    urls: [path('plaintext', () => text(MESSAGE)), path('json', () => json({ message: MESSAGE }))],
    middleware: [noop('one'), noop('two'), noop('three'), noop('four'), noop('five')],
    settings: { SECRET_KEY: 'bench-only-secret-key-0123456789', ALLOWED_HOSTS: ['127.0.0.1'], APPEND_SLASH: false },
    env: {},
  })
  return app.handle as http.RequestListener
}
