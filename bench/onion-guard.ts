// What a middleware boundary costs, without sockets: five async no-op middleware (issue 2's bench
// shape) around a base that answers at once, 64 requests in flight, with each boundary done by
//   guard   the framework's guard() (src/web/middleware.ts): one then() per layer
//   static  the same with one fulfilment handler per layer made at startup (no closure per request)
//   async   an async wrapper (try { return await inner(req) } catch …)
//   none    no boundary at all: the lower bound, and not Django's semantics (an error in a layer
//           would reach the layers above as an exception instead of a 500 response)
// Usage: node bin/run-ts.js bench/onion-guard.ts <guard|static|async|none> [batches]
// For instruction counts (insensitive to a busy machine) run it under callgrind with two batch
// counts and divide the difference by 64 × the difference in batches:
//   valgrind --tool=callgrind node --predictable --import tsx bench/onion-guard.ts guard 100   (and 400)
import { guard } from '../src/web/middleware.ts'
import { HttpResponse } from '../src/web/response.ts'
import type { HttpRequest } from '../src/web/request.ts'
import type { Handler } from '../src/web/types.ts'

const variant = process.argv[2] ?? 'guard'
const batches = Number(process.argv[3] ?? 20_000)
const IN_FLIGHT = 64

const isResponse = (r: unknown): r is HttpResponse => r instanceof HttpResponse
const onError = (): Promise<HttpResponse> => Promise.resolve(new HttpResponse('error', { status: 500 }))

type Boundary = (inner: Handler, layer: string) => Handler
const boundaries: Record<string, Boundary> = {
  guard: (inner, layer) => guard(inner, layer, onError),
  static: (inner, layer) => {
    const fulfilled = (res: HttpResponse) => {
      if (isResponse(res)) return res
      throw new TypeError(`${layer} returned no response`)
    }
    return (req) => inner(req).then(fulfilled, () => onError())
  },
  async: (inner) => async (req) => {
    try {
      return await inner(req)
    } catch {
      return onError()
    }
  },
  none: (inner) => inner,
}
const boundary = boundaries[variant]
if (!boundary) throw new Error(`unknown variant ${variant}: ${Object.keys(boundaries).join(', ')}`)

// Built like buildOnion: the outermost layer is called without a boundary (app.handle does its own).
let handler: Handler = () => Promise.resolve(new HttpResponse('Hello, World!'))
for (let i = 0; i < 5; i++) {
  const next = handler
  const layer: Handler = async (req) => {
    const res = await next(req)
    return res
  }
  handler = i === 4 ? layer : boundary(layer, `layer ${i}`)
}

const req = {} as HttpRequest
async function run(n: number): Promise<void> {
  const pending: Promise<HttpResponse>[] = new Array(IN_FLIGHT)
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < IN_FLIGHT; j++) pending[j] = handler(req)
    await Promise.all(pending)
  }
}

await run(3_000)
const start = process.cpuUsage()
await run(batches)
const used = process.cpuUsage(start)
console.log(`${variant}: ${(((used.user + used.system) * 1000) / (batches * IN_FLIGHT)).toFixed(0)} ns of CPU per request (${batches * IN_FLIGHT} requests)`)
