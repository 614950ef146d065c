import { test } from 'node:test'
import assert from 'node:assert/strict'
import { utf8Bytes } from '../../src/web/utf8.ts'

test('utf8Bytes: the same bytes as Buffer.from for every kind of string', () => {
  const rope = (parts: string[]) => { let s = ''; for (const p of parts) s += p; return s }
  const cases = [
    '', 'a', 'plain ascii <html>', 'latin-1: caf\u00e9 \u00b7 \u00ff', 'two-byte: edge \u2192 firewall \u2192 app',
    'astral: \u{1F600}\u{1F680}', 'lone surrogates: \ud800 x \udc00 end \ud83d', '\u0000nul\u0000',
    rope(Array.from({ length: 200 }, (_, i) => `<li>${i} \u2192 item</li>`)),
    'x'.repeat(32 * 1024), '\u2192'.repeat(32 * 1024), // exactly at the scratch path's limit (3 bytes each)
    '\u2192'.repeat(32 * 1024 + 1), 'y'.repeat(200_000), // above it: Buffer.from
  ]
  for (const s of cases) assert.ok(utf8Bytes(s).equals(Buffer.from(s)), `${JSON.stringify(s.slice(0, 40))} (${s.length} units)`)
})

test('utf8Bytes: every result is its own buffer (the scratch is never handed out)', () => {
  const a = utf8Bytes('first \u2192 page')
  const b = utf8Bytes('second page, longer than the first \u2192')
  assert.equal(a.toString(), 'first \u2192 page')
  assert.equal(b.toString(), 'second page, longer than the first \u2192')
  const big = utf8Bytes('z'.repeat(10_000))
  utf8Bytes('w'.repeat(10_000))
  assert.equal(big.toString(), 'z'.repeat(10_000))
})
