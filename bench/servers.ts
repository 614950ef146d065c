// One benchmark target per process: `node --import tsx bench/servers.ts <target>` listens on an
// ephemeral loopback port and prints `PORT <n>`. Targets answer /plaintext and /json the
// TechEmpower way (fixed bodies, Content-Type and Content-Length).
import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { MESSAGE, frameworkBenchHandler, rawNodeHandler } from './framework-app.ts'
const target = process.argv[2]

function listen(server: http.Server): void {
  server.keepAliveTimeout = 65_000
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`))
}

async function rawNode(): Promise<void> {
  listen(http.createServer(rawNodeHandler))
}

async function fastify(): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false })
  app.get('/plaintext', (_req, reply) => { reply.type('text/plain; charset=utf-8').send(MESSAGE) })
  app.get('/json', () => ({ message: MESSAGE }))
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  console.log(`PORT ${new URL(address).port}`)
}

async function causeway(): Promise<void> {
  listen(http.createServer(await frameworkBenchHandler()))
}

const targets: Record<string, () => Promise<void>> = { node: rawNode, fastify, causeway }
const start = target ? targets[target] : undefined
if (!start) {
  console.error(`usage: servers.ts ${Object.keys(targets).join('|')}`)
  process.exit(2)
}
await start()
// SIGUSR2 → `CPU <µs>`: the bench reads this process's CPU time around a measurement, which on a
// busy machine says more than wall-clock req/s. Exit through process.exit so --cpu-prof works.
process.on('SIGUSR2', () => {
  const c = process.cpuUsage()
  console.log(`CPU ${c.user + c.system}`)
})
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
