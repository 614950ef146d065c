// The timestamptz fast path gives exactly pg's Dates (postgres-date) for the same text, and hands
// every other shape to pg's parser.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { timestamptzParser } from '../../src/db/pg-timestamp.ts'

const pgParse = pg.types.getTypeParser(1184, 'text') as (s: string) => unknown
const same = (a: unknown, b: unknown): boolean =>
  a instanceof Date && b instanceof Date ? Object.is(a.getTime(), b.getTime()) : Object.is(a, b)

test('timestamptzParser: same result as pg for fixed and unusual shapes', () => {
  let fellBack = 0
  const fast = timestamptzParser((s) => (fellBack++, pgParse(s)))
  const fastShapes = ['2026-11-21 18:13:15+00', '2026-11-21 18:13:15.1+00', '2026-11-21 18:13:15.123456+00', '2026-11-21 18:13:15.000001+00', '1999-12-31 23:59:59.999999+05', '2000-02-29 00:00:00-08']
  for (const s of fastShapes) assert.ok(same(fast(s), pgParse(s)), s)
  assert.equal(fellBack, 0)
  const others = ['0044-03-15 12:00:00+00 BC', 'infinity', '-infinity', '2026-11-21 18:13:15+05:30', '0099-01-01 00:00:00+00', '12026-11-21 18:13:15+00', '2026-11-21 18:13:15.+00', '2026-1x-21 18:13:15+00', '2026-11-21 18:13:1x+00']
  for (const s of others) assert.ok(same(fast(s), pgParse(s)), s)
  assert.equal(fellBack, others.length)
})

test('timestamptzParser: same result as pg for 100,000 random timestamps, fractions and offsets', () => {
  const fast = timestamptzParser(pgParse)
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  let seed = 42
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let k = 0; k < 100_000; k++) {
    const d = new Date(Math.floor(rnd() * 2e13) - 1e12)
    const digits = Math.floor(rnd() * 7)
    const frac = digits ? '.' + p(Math.floor(rnd() * 1e6), 6).slice(0, digits) : ''
    const off = Math.floor(rnd() * 29) - 14
    const s = `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${frac}${off < 0 ? '-' : '+'}${p(Math.abs(off))}`
    assert.ok(same(fast(s), pgParse(s)), s)
  }
})
