// Each SQL statement of a recorded request is one client span with the statement text (never the
// parameter values), its operation and table, and the row count; transactions are one span
// around their statements. Same on SQLite and PostgreSQL.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configureJourney, createSampler, startTrace, MemorySink, type SpanData } from '../../src/journey/index.ts'
import { connect, setConnection, createTables, closeAll, model, f, atomic, type Connection } from '../../src/db/index.ts'
import { describeStatement } from '../../src/db/trace.ts'
import { needPostgres } from '../support/services.ts'
import { withPostgresSchema } from '../support/pg-schema.ts'
import { assertWellFormed } from './web-support.ts'

const Gadget = model('jwdb.Gadget', { name: f.char({ maxLength: 100 }), secret: f.char({ maxLength: 100 }), stock: f.integer({ default: 0 }) })

const sink = new MemorySink()
after(() => configureJourney({ enabled: false }))

/** Runs fn as one sampled request and returns its spans (root first). */
async function traced(fn: () => Promise<unknown>): Promise<SpanData[]> {
  sink.clear()
  configureJourney({ enabled: true, sampler: createSampler('always'), sinks: [sink] })
  await startTrace(undefined, undefined, fn, { name: 'request' })
  const root = sink.spans.find((s) => s.name === 'request')!
  return [root, ...sink.spans.filter((s) => s !== root)]
}

async function suite(conn: Connection, system: string): Promise<void> {
  setConnection(conn)
  await createTables([Gadget], conn)

  // INSERT, SELECT, UPDATE, DELETE: one span each, values never in the statement.
  const spans = await traced(async () => {
    const g = await Gadget.objects.create({ name: 'Lamp', secret: 'hunter2-value', stock: 3 })
    await Gadget.objects.create({ name: 'Desk', secret: 'other-value', stock: 1 })
    const found = await Gadget.objects.filter({ secret: 'hunter2-value' }).toArray()
    assert.equal(found.length, 1)
    const all = await Gadget.objects.all().toArray()
    assert.equal(all.length, 2)
    await Gadget.objects.filter({ id: g.id }).update({ stock: 7 })
    await Gadget.objects.filter({ secret: 'other-value' }).delete()
  })
  const [root, ...rest] = spans
  assertWellFormed(spans)
  // delete() collects and deletes inside a transaction: its statements nest in that span.
  const txIds = new Set(rest.filter((s) => s.name === 'db.transaction').map((s) => s.spanId))
  for (const t of rest.filter((s) => s.name === 'db.transaction')) assert.equal(t.parentSpanId, root!.spanId)
  const queries = rest.filter((s) => s.name !== 'db.transaction')
  assert.ok(queries.length >= 6, `spans: ${queries.map((s) => s.name).join(', ')}`)
  for (const q of queries) {
    assert.ok(q.parentSpanId === root!.spanId || txIds.has(q.parentSpanId!), `${q.name} is a child of the request or of its transaction`)
    assert.equal(q.kind, 'client')
    assert.equal(q.attributes['db.system'], system)
    const text = String(q.attributes['db.statement'])
    assert.ok(text.length > 0)
    for (const v of ['hunter2-value', 'other-value', 'Lamp', 'Desk']) assert.ok(!text.includes(v), `${q.name}: the value ${v} leaked into db.statement: ${text}`)
  }
  const names = queries.map((s) => s.name)
  assert.ok(names.includes('INSERT jwdb_gadget'), names.join(', '))
  assert.ok(names.includes('UPDATE jwdb_gadget'), names.join(', '))
  assert.ok(names.includes('DELETE jwdb_gadget'), names.join(', '))
  const selects = queries.filter((s) => s.name === 'SELECT jwdb_gadget')
  assert.deepEqual(selects.map((s) => s.attributes['db.response.returned_rows']).slice(0, 2), [1, 2])
  const update = queries.find((s) => s.name === 'UPDATE jwdb_gadget')!
  assert.equal(update.attributes['db.operation.name'], 'UPDATE')
  assert.equal(update.attributes['db.collection.name'], 'jwdb_gadget')
  assert.equal(update.attributes['db.response.affected_rows'], 1)

  // A transaction is one span around its statements; a failing statement is an error span.
  const tx = await traced(async () => {
    await atomic(async () => {
      await Gadget.objects.create({ name: 'Chair', secret: 's', stock: 1 })
    })
    await assert.rejects(conn.query({ sql: 'SELECT nope FROM jwdb_gadget', params: [] }))
  })
  assertWellFormed(tx)
  const txSpan = tx.find((s) => s.name === 'db.transaction')
  assert.ok(txSpan, tx.map((s) => s.name).join(', '))
  assert.ok(tx.some((s) => s.name === 'INSERT jwdb_gadget' && s.parentSpanId === txSpan.spanId), 'the insert is inside the transaction span')
  const failed = tx.find((s) => s.name === 'SELECT jwdb_gadget' && s.status.code === 'error')
  assert.ok(failed, 'the failing query is an error span')
  assert.ok(failed.events.some((e) => e.name === 'exception'))

  // Outside a sampled request, and with the journey off: no spans at all.
  sink.clear()
  configureJourney({ enabled: true, sampler: createSampler('never'), sinks: [sink] })
  await startTrace(undefined, undefined, () => Gadget.objects.all().toArray())
  await Gadget.objects.all().toArray()
  configureJourney({ enabled: false, sinks: [sink] })
  await Gadget.objects.all().toArray()
  assert.equal(sink.spans.length, 0)
}

test('SQLite: one span per statement, statement text without parameter values', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-jwdb-'))
  try {
    await suite(connect(`sqlite:///${join(dir, 'db.sqlite3')}`), 'sqlite')
  } finally {
    await closeAll()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('PostgreSQL: the same spans, db.system postgresql', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  await withPostgresSchema(url, 'cw_jwdb', (schemaUrl) => suite(connect(schemaUrl, { poolSize: 2 }), 'postgresql'))
})

test('span names follow the statement: operation and table', () => {
  assert.equal(describeStatement('SELECT "a"."id" FROM "shop_product" WHERE "slug" = ?').name, 'SELECT shop_product')
  assert.equal(describeStatement('INSERT INTO "shop_product" ("name") VALUES ($1) RETURNING "id"').name, 'INSERT shop_product')
  assert.equal(describeStatement('UPDATE "shop_product" SET "stock" = $1').name, 'UPDATE shop_product')
  assert.equal(describeStatement('DELETE FROM public."my""table" WHERE 1').name, 'DELETE public.my"table')
  assert.equal(describeStatement('BEGIN').name, 'BEGIN')
  assert.equal(describeStatement('   ').name, 'db.query')
})
