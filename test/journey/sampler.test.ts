import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSampler } from '../../src/journey/sampler.ts'

const parent = (sampled: boolean) => ({ version: 0, traceId: 'a'.repeat(32), parentId: 'b'.repeat(16), sampled })

test('the per-second reservoir records the first N new roots each second, then the ratio alone', async () => {
  const s = createSampler('parent-based', 0, 3)
  assert.deepEqual([s(undefined), s(undefined), s(undefined), s(undefined), s(undefined)], [true, true, true, false, false])
  assert.equal(s(parent(true)), true, "a caller's sampled flag is followed whatever the reservoir")
  assert.equal(s(parent(false)), false)
  await new Promise((r) => setTimeout(r, 1010))
  assert.equal(s(undefined), true, 'a new second refills the reservoir')
})

test('beyond the reservoir the ratio decides; ratio 1 records everything and 0 per second means the ratio only', () => {
  const half = createSampler('parent-based', 0.5, 1)
  let n = 0
  for (let i = 0; i < 4000; i++) if (half(undefined)) n++
  assert.ok(n > 1700 && n < 2300, `about half recorded (${n})`)
  const all = createSampler('parent-based', 1, 0)
  for (let i = 0; i < 100; i++) assert.equal(all(undefined), true)
  const none = createSampler('ratio', 0, 0)
  for (let i = 0; i < 100; i++) assert.equal(none(undefined), false)
  assert.throws(() => createSampler('parent-based', 0.1, -1), /samples per second/)
})
