// `node --import tsx bench/instructions.ts <node|causeway> <plaintext|json> <requests> [warmup]`
// One process serves and loads itself over loopback sockets (8 keep-alive connections, one
// request in flight on each), so that under callgrind the instruction count is deterministic:
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p node --predictable --import tsx bench/instructions.ts causeway plaintext 1000
// Run it twice (e.g. 1000 and 3000 requests, same warmup) and divide the difference in
// instructions by the difference in requests: the per-request cost, with startup cancelled out.
// The servers are the same as bench/servers.ts's.
import http from 'node:http'
import net from 'node:net'
import v8 from 'node:v8'
import type { AddressInfo } from 'node:net'

import { frameworkBenchHandler, rawNodeHandler } from './framework-app.ts'
const [target, test, requestsArg, warmupArg] = process.argv.slice(2)
const requests = Number(requestsArg ?? 1000)
const warmup = Number(warmupArg ?? 3000)
const CONNECTIONS = 8
// INSTRUCTIONS_MARKS=1: print every 1000th answer (with --trace-opt: is the JIT settled yet?)
const MARKS = process.env.INSTRUCTIONS_MARKS === '1'

async function handler(): Promise<http.RequestListener> {
  if (target === 'node') {
    return rawNodeHandler
  }
  return frameworkBenchHandler()
}

const server = http.createServer(await handler())
server.keepAliveTimeout = 65_000
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const port = (server.address() as AddressInfo).port
const request = Buffer.from(`GET /${test} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n`)

// The same sockets for the warm-up and the measurement: code the JIT specialised on them stays valid.
const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => new Promise<net.Socket>((resolve, reject) => {
  const s = net.connect(port, '127.0.0.1', () => resolve(s))
  s.setNoDelay(true)
  s.on('error', reject)
})))
let onAnswer: (s: net.Socket) => void = () => {}
for (const s of sockets) {
  s.on('data', (d: Buffer) => {
    // One response per read: each request waits for its answer, and these are small.
    if (d.indexOf('HTTP/1.1 200') !== 0) throw new Error(`unexpected response: ${d}`)
    onAnswer(s)
  })
}

/** Sends `n` requests over the sockets, one at a time on each; resolves when all are answered. */
function drive(n: number): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0
    let answered = 0
    onAnswer = (s) => {
      answered++
      if (MARKS && answered % 1000 === 0) console.log(`MARK ${answered}`)
      if (answered === n) resolve()
      else if (sent < n) { sent++; s.write(request) }
    }
    for (const s of sockets) if (sent < n) { sent++; s.write(request) }
  })
}

await drive(warmup)
// No TurboFan compiles from here on: the JIT has settled on the hot path by now, and under
// callgrind one late compile costs as much as thousands of requests (what is optimized stays).
v8.setFlagsFromString('--no-opt')
await drive(requests)
for (const s of sockets) s.destroy()
server.close()
console.log(`${target} ${test}: ${requests} requests after ${warmup} warm-up`)
