// `causeway edge [--config FILE] [--check]`: runs the edge engine from the `edge` and `firewall`
// sections of causeway.config.ts. SIGHUP re-reads the file and reloads without dropping
// connections (a bad new config is logged and the old one kept); SIGTERM/SIGINT stop gracefully.
import cluster from 'node:cluster'
import { pathToFileURL } from 'node:url'
import { tsImport } from 'tsx/esm/api'
import { loadConfig, type CausewayConfig } from '../../config.ts'
import { CausewayError, isCausewayError } from '../../errors.ts'
import { createEdge, validateEdgeConfig } from '../../edge/index.ts'
import { edgeProcesses, superviseWorkers } from '../../edge/cluster.ts'

export const summary = 'run the edge (TLS, static files, proxy, firewall) from causeway.config.ts; HUP reloads'

const HELP = `usage: causeway edge [--config FILE] [--check]

  --config FILE   the config file (default: causeway.config.ts in the current directory)
  --check         validate the edge and firewall sections and exit

Signals: HUP reloads the config file, TERM/INT stop gracefully. The first process supervises
edge.workers processes sharing the listeners (started with edge.nodeArgs) and forwards the
signals; it serves itself only with one worker and no node flags missing.`

function parseArgs(args: string[]): { file?: string; check: boolean } {
  const out: { file?: string; check: boolean } = { check: false }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--config' || a === '-c') {
      out.file = args[++i]
      if (!out.file) throw new CausewayError('CW_ERR_USAGE', `--config needs a file\n\n${HELP}`)
    } else if (a.startsWith('--config=')) out.file = a.slice('--config='.length)
    else if (a === '--check') out.check = true
    else throw new CausewayError('CW_ERR_USAGE', `unknown option ${a}\n\n${HELP}`)
  }
  return out
}

let generation = 0

/** Re-imports the config file under a fresh URL: the module cache would return the old one. */
async function reimport(file: string): Promise<CausewayConfig> {
  let mod = (await tsImport(`${pathToFileURL(file).href}?reload=${++generation}`, import.meta.url)) as Record<string, unknown>
  // A .ts config in a folder that is not an ES module package loads as CommonJS: unwrap once.
  const inner = mod.default as Record<string, unknown> | undefined
  if (inner && typeof inner === 'object' && ('__esModule' in inner || ('default' in inner && Object.keys(mod).length === 1))) mod = inner
  return (mod.default ?? mod.config) as CausewayConfig
}

export async function run(args: string[]): Promise<number | void> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP)
    return
  }
  const opts = parseArgs(args)
  const loaded = await loadConfig({ file: opts.file })
  const edge = createEdge({ edge: loaded.config.edge, firewall: loaded.config.firewall, journey: loaded.config.journey }, { root: loaded.root })
  if (opts.check) {
    console.log(`causeway edge: ${loaded.file ?? '(defaults)'} is valid`)
    return 0
  }
  const settings = validateEdgeConfig(loaded.config.edge ?? {}, loaded.root)
  const procs = edgeProcesses(loaded.config.edge, loaded.config.firewall, settings.workers)
  if (procs.note && cluster.isPrimary) console.log(procs.note)
  // edge.nodeArgs (V8's young generation size, …) can only be given to a process as it starts:
  // the serving processes are forked with them, even a single one when this node lacks them.
  const missing = settings.nodeArgs.filter((a) => !process.execArgv.includes(a))
  if (cluster.isPrimary && (procs.count > 1 || missing.length > 0)) {
    cluster.setupPrimary({ execArgv: [...process.execArgv, ...missing] })
    return superviseWorkers(procs.count)
  }
  await edge.listen()

  const file = loaded.file
  let reloading = Promise.resolve()
  const reload = () => {
    reloading = reloading.then(async () => {
      if (!file) {
        console.error('edge: SIGHUP ignored: no config file to reload')
        return
      }
      try {
        const config = await reimport(file)
        await edge.reload({ edge: config?.edge, firewall: config?.firewall })
        console.log(`edge: reloaded ${file}`)
      } catch (e) {
        const msg = isCausewayError(e) ? e.message : ((e as Error).stack ?? String(e))
        console.error(`edge: reload failed, keeping the running config: ${msg}`)
      }
    })
  }
  process.on('SIGHUP', reload)
  const stopped = new Promise<void>((resolveStop) => {
    const stop = (sig: string) => {
      console.log(`edge: ${sig}, closing gracefully`)
      process.off('SIGHUP', reload)
      edge.close().then(resolveStop, (e) => { console.error('edge: close failed', e); resolveStop() })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  // Announced only once TERM/INT are handled: whoever reads this line and stops the edge at once
  // gets a graceful stop, not node's default death by the signal.
  for (const a of edge.addresses) console.log(`edge: listening on ${a.url}${a.http2 ? ' (h2, http/1.1)' : ''}`)
  await stopped
  // A cluster worker's IPC channel would keep it alive after the edge closed.
  if (cluster.isWorker) process.disconnect?.()
  return 0
}
