// Migrations on both dialects: makemigrations from model changes, migrate forwards and back, a
// failing migration rolls back and leaves the database as it was.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { model, f, connect, setConnection, closeAll, makeMigrations, migrate, showMigrations, type Connection } from '../../src/db/index.ts'
import { needPostgres } from '../support/services.ts'
import { withPostgresSchema } from '../support/pg-schema.ts'

function v1() {
  const Supplier = model('inv.Supplier', { name: f.char({ maxLength: 50 }) })
  const Label = model('inv.Label', { text: f.char({ maxLength: 20, unique: true }) })
  const Item = model('inv.Item', {
    name: f.char({ maxLength: 50 }),
    supplier: f.foreignKey(() => Supplier, { onDelete: 'CASCADE' }),
    labels: f.manyToMany(() => Label),
  })
  return { Supplier, Label, Item }
}

function v2() {
  const { Supplier, Label } = v1()
  const Item = model('inv.Item', {
    name: f.char({ maxLength: 100 }),
    supplier: f.foreignKey(() => Supplier, { onDelete: 'CASCADE' }),
    labels: f.manyToMany(() => Label),
    qty: f.integer({ default: 1 }),
    sku: f.char({ maxLength: 20, null: true, unique: true }),
  }, { indexes: [{ fields: ['name', 'qty'] }] })
  return { Supplier, Label, Item }
}

function v3() {
  const { Supplier, Label } = v1()
  const Item = model('inv.Item', {
    name: f.char({ maxLength: 100 }),
    supplier: f.foreignKey(() => Supplier, { onDelete: 'CASCADE' }),
    labels: f.manyToMany(() => Label),
    qty: f.integer({ null: true }),
  })
  return { Supplier, Label, Item }
}

async function columns(conn: Connection, table: string): Promise<string[]> {
  const rows = conn.dialect.name === 'sqlite'
    ? await conn.query({ sql: `SELECT name FROM pragma_table_info('${table}')`, params: [] })
    : await conn.query({ sql: 'SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position', params: [table] })
  return rows.map((r) => String(r[0]))
}

async function tables(conn: Connection): Promise<string[]> {
  const rows = conn.dialect.name === 'sqlite'
    ? await conn.query({ sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", params: [] })
    : await conn.query({ sql: 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name', params: [] })
  return rows.map((r) => String(r[0]))
}

async function suite(t: TestContext, conn: Connection): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-mig-'))
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  const migrations = join(dir, 'migrations')
  try {
    await t.test('makemigrations writes 0001_initial; --check is clean afterwards', async () => {
      const { Supplier, Label, Item } = v1()
      const r = await makeMigrations({ models: [Item], dir: migrations })
      assert.equal(r.name, '0001_initial')
      const order = r.operations.map((o) => o.op === 'CreateModel' ? o.name : o.op)
      assert.deepEqual([...order].sort(), ['inv.Item', 'inv.Item_labels', 'inv.Label', 'inv.Supplier'])
      assert.ok(order.indexOf('inv.Supplier') < order.indexOf('inv.Item'), 'a model comes after the models its foreign keys point at')
      assert.equal(order.at(-1), 'inv.Item_labels')
      const text = readFileSync(r.file!, 'utf8')
      assert.match(text, /import type \{ Migration \} from 'causeway\/db'/)
      assert.match(text, /op: "CreateModel"/)
      assert.deepEqual(await makeMigrations({ models: [Item, Supplier, Label], dir: migrations, check: true }), { changed: false, operations: [] })
    })

    await t.test('migrate applies and records; rows work through the models', async () => {
      const { Supplier, Item, Label } = v1()
      assert.deepEqual(await migrate({ dir: migrations, connection: conn }), { applied: ['0001_initial'], unapplied: [] })
      assert.deepEqual(await migrate({ dir: migrations, connection: conn }), { applied: [], unapplied: [] })
      const s = await Supplier.objects.create({ name: 'Acme' })
      const item = await Item.objects.create({ name: 'bolt', supplier: s })
      await item.labels.add(await Label.objects.create({ text: 'metal' }))
      assert.ok((await tables(conn)).includes('inv_item_labels'))
    })

    await t.test('model changes: --check reports them; 0002 adds/alters fields and an index, keeping rows', async () => {
      const { Item } = v2()
      const check = await makeMigrations({ models: [Item], dir: migrations, check: true })
      assert.equal(check.changed, true)
      assert.equal(check.file, undefined)
      const r = await makeMigrations({ models: [Item], dir: migrations })
      assert.match(r.name!, /^0002_/)
      assert.deepEqual(r.operations.map((o) => o.op).sort(), ['AddField', 'AddField', 'AddIndex', 'AlterField'])
      await migrate({ dir: migrations, connection: conn })
      assert.deepEqual(await columns(conn, 'inv_item'), ['id', 'name', 'supplier_id', 'qty', 'sku'])
      const bolt = await Item.objects.get({ name: 'bolt' })
      assert.equal(bolt.qty, 1, 'existing rows got the default')
      await Item.objects.create({ name: 'x'.repeat(40), supplier: bolt.supplierId, sku: 'S1' })
      await assert.rejects(Item.objects.create({ name: 'dup', supplier: bolt.supplierId, sku: 'S1' }), { code: 'CW_ERR_INTEGRITY', kind: 'unique' })
    })

    await t.test('0003 removes a field and makes one nullable (SQLite rebuilds the table), rows kept', async () => {
      const { Item } = v3()
      const r = await makeMigrations({ models: [Item], dir: migrations })
      assert.deepEqual(r.operations.map((o) => o.op).sort(), ['AlterField', 'RemoveField', 'RemoveIndex'])
      await migrate({ dir: migrations, connection: conn })
      assert.deepEqual(await columns(conn, 'inv_item'), ['id', 'name', 'supplier_id', 'qty'])
      assert.equal(await Item.objects.count(), 2)
      await Item.objects.filter({ name: 'bolt' }).update({ qty: null })
      assert.equal((await Item.objects.get({ name: 'bolt' })).qty, null)
      await Item.objects.filter({ name: 'bolt' }).update({ qty: 7 })
      assert.equal((await Item.objects.get({ name: 'bolt' })).labels instanceof Object, true)
      assert.equal(await Item.objects.filter({ labels__text: 'metal' }).count(), 1, 'm2m links survived the rebuild')
      assert.deepEqual(await showMigrations({ dir: migrations, connection: conn }), [
        { name: '0001_initial', applied: true }, { name: readdirSync(migrations).sort()[1]!.replace('.ts', ''), applied: true }, { name: readdirSync(migrations).sort()[2]!.replace('.ts', ''), applied: true },
      ])
    })

    await t.test('migrate back to 0001 reverses operations; forwards again', async () => {
      const r = await migrate({ dir: migrations, connection: conn, target: '0001' })
      assert.equal(r.unapplied.length, 2)
      assert.deepEqual(await columns(conn, 'inv_item'), ['id', 'name', 'supplier_id'])
      const rows = await conn.query({ sql: 'SELECT name FROM inv_item ORDER BY id', params: [] })
      assert.deepEqual(rows.map((x) => x[0]), ['bolt', 'x'.repeat(40)])
      assert.deepEqual((await showMigrations({ dir: migrations, connection: conn })).map((m) => m.applied), [true, false, false])
      const again = await migrate({ dir: migrations, connection: conn })
      assert.equal(again.applied.length, 2)
      assert.deepEqual(await columns(conn, 'inv_item'), ['id', 'name', 'supplier_id', 'qty'])
    })

    await t.test('hand-written operations: RenameField, AlterModelTable, AddIndex, RunSQL; and their reverse', async () => {
      writeFileSync(join(migrations, '0004_manual.ts'), `export default { operations: [
        { op: 'RenameField', model: 'inv.Supplier', oldName: 'name', newName: 'title' },
        { op: 'AlterModelTable', name: 'inv.Supplier', table: 'inv_vendor' },
        { op: 'AddIndex', model: 'inv.Supplier', index: { name: 'inv_vendor_title_idx', fields: ['title'] } },
        { op: 'RunSQL', sql: { sqlite: "UPDATE inv_vendor SET title = title || ' (sqlite)'", postgres: "UPDATE inv_vendor SET title = title || ' (pg)'" },
          reverseSql: "UPDATE inv_vendor SET title = substr(title, 1, 4)" },
      ] }\n`)
      await migrate({ dir: migrations, connection: conn })
      assert.deepEqual(await columns(conn, 'inv_vendor'), ['id', 'title'])
      assert.ok(!(await tables(conn)).includes('inv_supplier'))
      const [[title]] = await conn.query({ sql: 'SELECT title FROM inv_vendor', params: [] }) as [[string]]
      assert.equal(title, conn.dialect.name === 'sqlite' ? 'Acme (sqlite)' : 'Acme (pg)')
      const n = await conn.query({ sql: 'SELECT COUNT(*) FROM inv_item WHERE supplier_id IN (SELECT id FROM inv_vendor)', params: [] })
      assert.equal(Number(n[0]![0]), 2, 'foreign keys follow the renamed table')
      await migrate({ dir: migrations, connection: conn, target: '0003' })
      assert.deepEqual(await columns(conn, 'inv_supplier'), ['id', 'name'])
      const [[name]] = await conn.query({ sql: 'SELECT name FROM inv_supplier', params: [] }) as [[string]]
      assert.equal(name, 'Acme')
      await migrate({ dir: migrations, connection: conn })
    })

    await t.test('a failing migration rolls back completely and is not recorded', async () => {
      const before = await tables(conn)
      const cols = await columns(conn, 'inv_item')
      writeFileSync(join(migrations, '0005_bad.ts'), `export default { operations: [
        { op: 'CreateModel', name: 'inv.Temp', table: 'inv_temp', fields: { id: { type: 'bigAuto', column: 'id', primaryKey: true } } },
        { op: 'AddField', model: 'inv.Item', name: 'color', field: { type: 'char', column: 'color', maxLength: 10, default: 'red' } },
        { op: 'RunSQL', sql: 'INSERT INTO no_such_table VALUES (1)' },
      ] }\n`)
      await assert.rejects(migrate({ dir: migrations, connection: conn }), (e: any) => {
        assert.equal(e.code, 'CW_ERR_MIGRATION')
        assert.match(e.message, /could not apply migration 0005_bad; it was rolled back/)
        assert.match(e.message, /no_such_table/)
        return true
      })
      assert.deepEqual(await tables(conn), before)
      assert.deepEqual(await columns(conn, 'inv_item'), cols)
      assert.equal((await showMigrations({ dir: migrations, connection: conn })).find((m) => m.name === '0005_bad')!.applied, false)
      rmSync(join(migrations, '0005_bad.ts'))
    })

    await t.test('bad targets and broken files are clear errors', async () => {
      await assert.rejects(migrate({ dir: migrations, connection: conn, target: '0099' }), { code: 'CW_ERR_MIGRATION', message: /matches no migration/ })
      writeFileSync(join(migrations, '0006_typo.ts'), `export default { operations: [{ op: 'CreateTable', name: 'x' }] }\n`)
      await assert.rejects(migrate({ dir: migrations, connection: conn }), { code: 'CW_ERR_MIGRATION', message: /0006_typo, operation 1: unknown op "CreateTable"/ })
      rmSync(join(migrations, '0006_typo.ts'))
    })

    await t.test('migrate zero drops everything the migrations created', async () => {
      await migrate({ dir: migrations, connection: conn, target: 'zero' })
      assert.deepEqual(await tables(conn), ['causeway_migrations'])
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('migrations on SQLite', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-migdb-'))
  const conn = connect(`sqlite:///${join(dir, 'db.sqlite3')}`)
  setConnection(conn)
  try {
    await suite(t, conn)
  } finally {
    await closeAll()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('migrations on PostgreSQL', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  await withPostgresSchema(url, 'cw_mig', async (schemaUrl) => {
    const conn = connect(schemaUrl, { poolSize: 2 })
    setConnection(conn)
    await suite(t, conn)
  })
})
