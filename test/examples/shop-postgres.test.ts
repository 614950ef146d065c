// The shop on PostgreSQL (a schema of its own) with sessions in Redis, as `causeway up` runs it
// when DATABASE_URL and REDIS_URL are set: migrate, seed (john only with CAUSEWAY_DEMO_PASSWORD),
// log in, add to the cart, the total — and the session really lives in Redis.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { connect, setConnection, closeAll, migrate } from '../../src/db/index.ts'
import { migrateBuiltins } from '../../src/web/auth/builtins.ts'
import { Client } from '../../src/web/test-client.ts'
import { needPostgres, needRedis, uniqueName } from '../support/services.ts'
import { countSocketWrites, portOf } from '../support/socket-writes.ts'
import { dropSchema } from '../support/pg-schema.ts'

const SHOP = new URL('../../examples/shop/', import.meta.url).pathname
const schema = uniqueName('cw_shop')
const dir = mkdtempSync(join(tmpdir(), 'shop-pg-'))
let pgUrl: string | undefined
let redis: Redis | undefined
const sessionKeys: string[] = []

after(async () => {
  await closeAll()
  if (pgUrl) await dropSchema(pgUrl, schema)
  if (redis) {
    if (sessionKeys.length) await redis.del(...sessionKeys)
    redis.disconnect()
  }
  rmSync(dir, { recursive: true, force: true })
})

const tokenIn = (text: string) => /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(text)?.[1]

test('PostgreSQL + Redis: seed, login, cart with total; the session is in Redis', { timeout: 120_000 }, async (t) => {
  pgUrl = await needPostgres(t)
  const redisUrl = await needRedis(t)
  if (!pgUrl || !redisUrl) return
  const admin = connect(pgUrl)
  await admin.exec(`CREATE SCHEMA ${schema}`)
  await admin.close()
  const url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`
  Object.assign(process.env, { DATABASE_URL: url, REDIS_URL: redisUrl, CAUSEWAY_DATA_DIR: dir, SECRET_KEY: 'shop-postgres-test-secret-'.padEnd(50, 'k') })
  delete process.env.CAUSEWAY_DEMO_PASSWORD
  setConnection(connect(url))
  await migrateBuiltins({ permissions: false })
  await migrate({ dir: join(SHOP, 'migrations'), log: () => {} })

  const seed = (await import('../../examples/shop/seed.ts')).default
  const lines: string[] = []
  await seed(process.env, (l) => lines.push(l))
  assert.match(lines.join('\n'), /no demo user/, 'a real database gets no default password')
  process.env.CAUSEWAY_DEMO_PASSWORD = 'john-pg-password-3'
  await seed(process.env, (l) => lines.push(l))
  assert.match(lines.at(-1)!, /created user john$/)

  // The app opens its own connection from the config's db section, as under `causeway up`
  // (pipelined: the page's statements share a write).
  await closeAll()
  const app = (await import('../../examples/shop/app.ts')).default
  await app.ready()
  assert.equal(app.settings.SECRET_KEY, process.env.SECRET_KEY, 'SECRET_KEY from the environment')
  assert.ok(!existsSync(join(dir, 'secret_key')), 'no generated key when SECRET_KEY is set')
  redis = new Redis(redisUrl)
  const client = new Client(app)
  try {
    let r = await client.get('/accounts/login/', { headers: { 'accept-encoding': 'identity' } })
    r = await client.post('/accounts/login/', { form: { username: 'john', password: 'john-pg-password-3', csrfmiddlewaretoken: tokenIn(r.text)! } })
    assert.equal(r.status, 302)
    const sid = /sessionid=([^;]+)/.exec(String(r.headers['set-cookie']))![1]!
    sessionKeys.push(`shop:session:${sid}`)
    assert.equal(await redis.exists(`shop:session:${sid}`), 1, 'the session is stored in Redis')

    r = await client.get('/products/wireless-headphones/', { headers: { 'accept-encoding': 'identity' } })
    assert.match(r.text, /Signed in as john/)
    assert.match(r.text, /\$199\.99/)
    // AUTH_PRELOAD_USER: the session from Redis, then the user's and the product's statements
    // together — one write to each.
    const writes = countSocketWrites([portOf(pgUrl, 5432), portOf(redisUrl, 6379)])
    r = await client.get('/products/wireless-headphones/', { headers: { 'accept-encoding': 'identity' } })
    assert.match(r.text, /Signed in as john/)
    assert.deepEqual(writes.stop(), [1, 1], 'writes to PostgreSQL and to Redis for the product page')
    r = await client.post('/cart/add/wireless-headphones/', { form: { quantity: '3', csrfmiddlewaretoken: tokenIn(r.text)! } })
    assert.equal(r.status, 302)
    r = await client.get('/cart/', { headers: { 'accept-encoding': 'identity' } })
    assert.match(r.text, /class="total">\$599\.97</, '3 × 199.99, exact decimals from numeric')
    assert.equal((await client.get('/products/nope/')).status, 404)
  } finally {
    await client.close()
    await app.close()
  }
})
