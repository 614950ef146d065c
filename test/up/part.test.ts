// One supervised part on its own: CAUSEWAY_UP_NODE_ARGS reaches the child's node flags (how the
// stack is profiled: `--cpu-prof` is refused in NODE_OPTIONS).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { Part } from '../../src/up/part.ts'

const SCRIPT = fileURLToPath(new URL('./fixtures/part/report-argv.ts', import.meta.url))
const opts = { restartDelay: 10, maxRestartDelay: 10, readyTimeout: 30_000, report: () => {} }

async function argvOf(env: string | undefined): Promise<string[]> {
  const saved = process.env.CAUSEWAY_UP_NODE_ARGS
  if (env === undefined) delete process.env.CAUSEWAY_UP_NODE_ARGS
  else process.env.CAUSEWAY_UP_NODE_ARGS = env
  try {
    const p = new Part({ name: 'probe', script: SCRIPT, ready: 'message' }, opts)
    const ready = (await p.start()) as unknown as { execArgv: string[] }
    await p.stop(5_000)
    return ready.execArgv
  } finally {
    if (saved === undefined) delete process.env.CAUSEWAY_UP_NODE_ARGS
    else process.env.CAUSEWAY_UP_NODE_ARGS = saved
  }
}

test('CAUSEWAY_UP_NODE_ARGS: its flags come before the tsx loader in every part', async () => {
  const plain = await argvOf(undefined)
  assert.ok(!plain.includes('--no-warnings'), plain.join(' '))
  const given = await argvOf('--no-warnings  --stack-size=2000')
  assert.deepEqual(given.slice(0, 2), ['--no-warnings', '--stack-size=2000'])
  assert.ok(given.includes('--import'), given.join(' '))
})
