// The workers' OTLP posts to the edge's collector are internal traffic: no access-log line each;
// a refused post (not from this host) and ordinary requests are still logged.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { createEdge } from '../../src/edge/index.ts'
import { request } from '../edge/front-support.ts'

test('OTLP posts from this host leave no access-log line; refused ones and pages do', { timeout: 30_000 }, async () => {
  const out = new PassThrough()
  let log = ''
  out.on('data', (c) => { log += c })
  const edge = createEdge({
    edge: { accessLog: { format: 'combined' }, listen: [{ port: 0 }], trustedProxies: ['127.0.0.1'], routes: [{ name: 'page', action: { respond: { body: 'ok' } } }] },
    journey: {},
  }, { accessLogStream: out, onError: () => {} })
  await edge.listen()
  try {
    const url = edge.addresses[0]!.url
    const body = '{"resourceSpans":[]}'
    const near = await request(`${url}/_causeway/otlp/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    assert.equal(near.status, 200, near.text)
    const far = await request(`${url}/_causeway/otlp/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' }, body })
    assert.equal(far.status, 403)
    assert.equal((await request(`${url}/hello`)).status, 200)
    await new Promise((r) => setTimeout(r, 100)) // the log is flushed on a later turn
    const lines = log.trim().split('\n')
    assert.equal(lines.filter((l) => l.includes('/_causeway/otlp/v1/traces')).length, 1, `only the refused post is logged:\n${log}`)
    assert.match(lines.find((l) => l.includes('/_causeway/otlp/'))!, /" 403 /)
    assert.ok(lines.some((l) => l.includes('GET /hello')), 'pages are logged')
  } finally {
    await edge.close()
  }
})
