// The access log's line builders on a hand-made context: the combined line (built straight from
// the context, without the JSON entry) escapes like nginx and prints '-' for missing fields.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { accessEntry, combinedLine } from '../../src/edge/log/access-log.ts'
import type { EdgeContext } from '../../src/edge/context.ts'

function ctx(over: { path?: string; headers?: Record<string, string>; notes?: Record<string, unknown>; length?: string } = {}): EdgeContext {
  const headers = over.headers ?? {}
  return {
    req: { method: 'GET', httpVersion: '1.1', headers },
    res: { statusCode: 200, getHeader: (k: string) => (k === 'content-length' ? over.length : undefined) },
    notes: over.notes ?? {},
    requestId: 'rid-1',
    clientAddress: '192.0.2.1',
    host: 'shop.test',
    path: over.path ?? '/p',
    search: '',
    startedAt: process.hrtime.bigint(),
    route: { name: 'app', index: 0 },
  } as unknown as EdgeContext
}

test('combined line: the fields of the JSON entry, in nginx order, with - for missing ones', () => {
  const c = ctx({ headers: { referer: 'http://ref.test/', 'user-agent': 'tester/1' }, notes: { upstream: 'http://127.0.0.1:8001' }, length: '930' })
  const line = combinedLine(c)
  assert.match(line, /^192\.0\.2\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/p HTTP\/1\.1" 200 930 "http:\/\/ref\.test\/" "tester\/1" rid=rid-1 rt=\d+\.\d{3} route=app upstream=http:\/\/127\.0\.0\.1:8001 cache=-$/)
  const e = accessEntry(c)
  assert.equal(e.bytes, 930)
  assert.match(combinedLine(ctx()), /" 200 - "-" "-" rid=rid-1 rt=[\d.]+ route=app upstream=- cache=-$/)
  // A body compressed on the fly has no known length: '-' as in the JSON entry's null.
  assert.match(combinedLine(ctx({ length: '930', notes: { compressed: 'gzip' } })), /" 200 - "-"/)
})

test('combined line: quotes, backslashes and control characters are written as \\xHH', () => {
  const line = combinedLine(ctx({ path: '/a"b\\c', headers: { 'user-agent': 'ev"il\x01\x1f', referer: '\\' } }))
  assert.ok(line.includes('"GET /a\\x22b\\x5cc HTTP/1.1"'), line)
  assert.ok(line.includes('"\\x5c" "ev\\x22il\\x01\\x1f"'), line)
})
