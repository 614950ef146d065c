// The shared session suite on Redis, the signed cookie, and the cache (memory and Redis); Redis reads batched per tick.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RedisSessionStore } from '../../src/web/sessions/redis-store.ts'
import type { SessionRecord } from '../../src/web/sessions/store.ts'
import { SignedCookieSessionStore } from '../../src/web/sessions/signed-cookie-store.ts'
import { CacheSessionStore } from '../../src/web/sessions/cache-store.ts'
import { createCache } from '../../src/web/cache/cache.ts'
import { needRedis, uniqueName } from '../support/services.ts'
import { sessionSuite } from './sessions-suite.ts'

async function redisUrl(): Promise<string | undefined> {
  try {
    return await needRedis()
  } catch {
    return undefined
  }
}

sessionSuite('redis', async () => {
  const url = await redisUrl()
  if (!url) return undefined
  const prefix = uniqueName('cw_sess') + ':'
  const store = new RedisSessionStore({ url, prefix })
  return {
    store,
    close: async () => {
      const keys = await store.client.keys(`${prefix}*`)
      if (keys.length) await store.client.del(...keys)
      await store.close()
    },
  }
})

sessionSuite('signed_cookies', async () => ({ store: new SignedCookieSessionStore({ SECRET_KEY: 'k'.repeat(40) }) }), { serverSide: false })

sessionSuite('cache (memory)', async () => ({ store: new CacheSessionStore(createCache({ maxEntries: 100 })) }))

sessionSuite('cache (redis)', async () => {
  const url = await redisUrl()
  if (!url) return undefined
  const cache = createCache({ url, keyPrefix: uniqueName('cw_sesscache') })
  return { store: new CacheSessionStore(cache), close: async () => { await cache.clear(); await cache.close() } }
})

test('redis: session reads issued in one turn of the event loop share one socket write, each with its own answer', async (t) => {
  const url = await redisUrl()
  if (!url) return t.skip('no Redis')
  const prefix = uniqueName('cw_sess') + ':'
  const store = new RedisSessionStore({ url, prefix })
  try {
    const now = Date.now()
    const keys: string[] = []
    for (let i = 0; i < 5; i++) keys.push(await store.save(undefined, { data: { n: i }, expiresAt: now + 60_000, lastActivity: now }))
    const stream = store.client.stream as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void }
    let writes = 0
    const { _write, _writev } = stream
    stream._write = function (...a: unknown[]) { writes++; return _write.apply(this, a) }
    stream._writev = function (...a: unknown[]) { writes++; return _writev.apply(this, a) }
    const got = await Promise.all([...keys, 'z'.repeat(32)].map((k) => store.load(k)))
    assert.deepEqual(got.map((r) => r?.data.n ?? null), [0, 1, 2, 3, 4, null])
    assert.equal(writes, 1)
    // Reads from separate callbacks of one turn (requests arriving together): still one write.
    writes = 0
    const spread = await new Promise<(SessionRecord | null)[]>((resolve) => {
      const loads: Promise<SessionRecord | null>[] = []
      for (const k of keys.slice(0, 3)) setTimeout(() => {
        loads.push(store.load(k))
        if (loads.length === 3) resolve(Promise.all(loads))
      }, 0)
    })
    assert.deepEqual(spread.map((r) => r?.data.n), [0, 1, 2])
    assert.equal(writes, 1)
    // The next turn's reads are not held back by the previous batch.
    writes = 0
    assert.equal((await store.load(keys[2]!))?.data.n, 2)
    assert.equal(writes, 1)
  } finally {
    const left = await store.client.keys(`${prefix}*`)
    if (left.length) await store.client.del(...left)
    await store.close()
  }
})
