// One edge process of `causeway up`: the same engine as `causeway edge`, with the config the
// supervisor planned (CAUSEWAY_UP_PLAN) merged into the user's `edge` section. Reports its real
// addresses over IPC once listening; SIGTERM/SIGINT or a lost parent close it gracefully.
import { pathToFileURL } from 'node:url'
import { tsImport } from 'tsx/esm/api'
import { loadConfig, type CausewayConfig } from '../config.ts'
import { createEdge } from '../edge/index.ts'
import { isCausewayError } from '../errors.ts'
import { buildEdgeSection, type EdgePlan } from './topology.ts'
import type { ChildMessage } from './part.ts'

const plan = JSON.parse(process.env.CAUSEWAY_UP_PLAN ?? 'null') as EdgePlan | null
if (!plan) throw new Error('edge-child: CAUSEWAY_UP_PLAN is not set (this file is started by causeway up)')

try {
  const loaded = await loadConfig({ file: process.env.CAUSEWAY_UP_CONFIG || undefined, dir: process.env.CAUSEWAY_UP_ROOT })
  const edgeSection = buildEdgeSection(plan, loaded.config.edge)
  const firewall = plan.firewall ? (loaded.config.firewall ?? {}) : undefined
  const edge = createEdge({ edge: edgeSection, firewall, journey: loaded.config.journey }, { root: loaded.root })
  await edge.listen()
  let closing = false
  const stop = () => {
    if (closing) return
    closing = true
    edge.close().then(() => process.exit(0), (e) => { console.error(`${plan.name}: close failed`, e); process.exit(1) })
  }
  // SIGHUP (forwarded by `up`): re-read causeway.config.ts and reload without dropping a
  // connection, as `causeway edge` does; a bad new config is reported and the old one kept.
  let generation = 0
  process.on('SIGHUP', () => {
    const file = loaded.file
    if (!file) return
    void (async () => {
      try {
        let mod = (await tsImport(`${pathToFileURL(file).href}?reload=${++generation}`, import.meta.url)) as Record<string, unknown>
        const inner = mod.default as Record<string, unknown> | undefined
        if (inner && typeof inner === 'object' && 'default' in inner && Object.keys(mod).length === 1) mod = inner
        const next = (mod.default ?? mod.config) as CausewayConfig
        await edge.reload({ edge: buildEdgeSection(plan, next.edge), firewall: plan.firewall ? (next.firewall ?? {}) : undefined, journey: next.journey })
        console.log(`${plan.name}: reloaded ${file}`)
      } catch (e) {
        console.error(`${plan.name}: reload failed, keeping the running config: ${isCausewayError(e) ? e.message : String(e)}`)
      }
    })()
  })
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // The supervisor died (kill -9): do not linger as an orphan holding the ports.
  process.on('disconnect', stop)
  // Ready only once the signals are handled: a stop right after it is still a graceful one.
  const j = edge.journey
  send({
    type: 'ready',
    addresses: edge.addresses.map((a) => ({ scheme: a.scheme, host: a.host, port: a.port, url: a.url })),
    journey: j && { dashboardPath: j.dashboardPath, otlpEndpoint: j.otlpEndpoint },
  })
} catch (e) {
  const msg = isCausewayError(e) ? e.message : ((e as Error).stack ?? String(e))
  send({ type: 'error', message: msg, config: isCausewayError(e) && (e as { code?: string }).code === 'CW_ERR_CONFIG' })
  console.error(`${plan.name}: ${msg}`)
  process.exitCode = isCausewayError(e) ? 2 : 1
  process.disconnect?.()
}

function send(m: ChildMessage): void {
  process.send?.(m)
}
