// The traced side of bench/firewall-instructions.ts: one edge, built from a JSON config, in this
// process until stdin closes. Bundled (esbuild) before it runs, so that under valgrind no time goes
// to compiling TypeScript.
import { readFileSync } from 'node:fs'
import { createEdge } from '../src/edge/index.ts'
import { compileConfig, createFirewall, defaultLog, RedisStore } from '../src/firewall/index.ts'

const [configFile, root] = process.argv.slice(2)
const config = JSON.parse(readFileSync(configFile!, 'utf8')) as Record<string, unknown>
const section = config.firewall as Record<string, unknown> | undefined
// The firewall the edge would build from its section, built here so that the Redis store can be
// awaited: measuring starts with Redis in use, not with its local fallback. Its command timeout is
// a minute, not 1 s: under valgrind the edge runs ~50 times slower, and a reply that waits behind
// a second of traced work would count as an outage (the local fallback then decides, and the
// figure is no longer Redis's). The harness checks the log for outages all the same.
let store: RedisStore | undefined
if (section) {
  const cfg = compileConfig(section, process.env)
  const s = cfg.settings
  if (s.store === 'redis') {
    store = new RedisStore({ url: s.redisUrl, prefix: s.redisPrefix, policy: cfg.policy, failMode: s.failMode as 'open' | 'closed', log: defaultLog, commandTimeout: 60_000 })
  }
}
const firewall = section ? createFirewall(section, { root, store }) : undefined
if (store) await store.ready(120_000)
const edge = createEdge(config as never, { root, firewall })
await edge.listen()
process.stdout.write(`port ${edge.addresses[0]!.port}\n`)
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
