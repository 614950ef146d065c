// The model/query suite, run once per dialect by sqlite.test.ts and postgres.test.ts. Every test
// starts from empty tables.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import {
  atomic, onCommit, withAtomic, q, sum, avg, min, max, count, queryHooks, drizzleTable,
  getObjectOr404, inTransaction, F, type Connection, type Row,
} from '../../src/db/index.ts'
import { cachedShapeCount } from '../../src/db/query/shapes.ts'
import { ALL, Category, Tag, Product, Brand, Shelf, Author, Review, World, Fortune, Node } from './fixtures/shop.ts'

type P = Row<typeof Product>

async function reset(conn: Connection): Promise<void> {
  const tables = ['shop_review', 'shop_author', 'shop_product_tags', 'shop_product', 'shop_shelf', 'shop_brand', 'shop_tag', 'shop_category', 'world', 'fortune', 'shop_node']
  for (const t of tables) await conn.exec(`DELETE FROM "${t}"`)
}

/** Counts statements run inside fn. */
async function queries<T>(fn: () => Promise<T>): Promise<{ result: T; n: number; sql: string[] }> {
  const sql: string[] = []
  queryHooks.onQuery = (q) => void sql.push(q.sql)
  try {
    const result = await fn()
    return { result, n: sql.length, sql }
  } finally {
    queryHooks.onQuery = undefined
  }
}

async function seed() {
  const audio = await Category.objects.create({ name: 'Audio' })
  const video = await Category.objects.create({ name: 'Video' })
  const [fresh, sale] = await Tag.objects.bulkCreate([{ name: 'new' }, { name: 'sale' }])
  const headphones = await Product.objects.create({ name: 'Wireless Headphones', slug: 'wireless-headphones', price: '99.90', category: audio, stock: 5 })
  const cable = await Product.objects.create({ name: 'Cable 50% off', slug: 'cable', price: 5, category: audio.id, released: '2024-02-29' })
  const tv = await Product.objects.create({ name: 'Television', slug: 'tv', price: '499.00', category: video, stock: 2, data: { color: 'black', sizes: [42, 55] } })
  await headphones.tags.add(fresh!, sale!)
  await tv.tags.add(sale!)
  return { audio, video, fresh: fresh!, sale: sale!, headphones, cable, tv }
}

export async function modelSuite(t: TestContext, conn: Connection): Promise<void> {
  const test = async (name: string, fn: () => Promise<void>) => {
    await t.test(name, async () => {
      await reset(conn)
      await fn()
    })
  }
  const dialect = conn.dialect.name

  await test('create and get: typed values round-trip', async () => {
    const { headphones, cable, tv } = await seed()
    assert.equal(typeof headphones.id, 'number')
    const p: P = await Product.objects.get({ slug: 'wireless-headphones' })
    assert.equal(p.name, 'Wireless Headphones')
    assert.equal(p.price, '99.90')
    assert.equal(p.stock, 5)
    assert.equal(p.active, true)
    assert.equal(p.kind, 'physical')
    assert.equal(p.description, '')
    assert.equal(p.released, null)
    assert.ok(p.created instanceof Date && p.updated instanceof Date)
    assert.match(p.code, /^[0-9a-f-]{36}$/)
    assert.equal(p.categoryId, headphones.categoryId)
    assert.equal((await Product.objects.get({ pk: cable.id })).price, '5.00')
    assert.equal((await Product.objects.get({ id: cable.id })).released, '2024-02-29')
    assert.deepEqual((await Product.objects.get({ slug: 'tv' })).data, { color: 'black', sizes: [42, 55] })
    assert.equal(typeof tv.pk, 'number')
    assert.deepEqual(Object.keys(p.toJSON()).sort(), ['active', 'brandId', 'categoryId', 'code', 'created', 'data', 'description', 'id', 'kind', 'name', 'price', 'released', 'shelfId', 'slug', 'stock', 'updated'])
  })

  await test('get: DoesNotExist (404, code, message) and MultipleObjectsReturned', async () => {
    await seed()
    await assert.rejects(Product.objects.get({ slug: 'nope' }), (e: any) => {
      assert.equal(e.code, 'CW_ERR_DOES_NOT_EXIST')
      assert.equal(e.status, 404)
      assert.match(e.message, /shop\.Product matching query does not exist.*"slug":"nope"/)
      return true
    })
    await assert.rejects(getObjectOr404(Product, { slug: 'nope' }), { status: 404 })
    await assert.rejects(Product.objects.get({ category__name: 'Audio' }), { code: 'CW_ERR_MULTIPLE_OBJECTS', message: /returned more than one shop\.Product -- it returned 2/ })
    await assert.rejects(Product.objects.filter({ price__gt: 1000 }).get(), { code: 'CW_ERR_DOES_NOT_EXIST' })
  })

  await test('get by unique field reuses one cached statement per shape', async () => {
    const { tv, cable } = await seed()
    const { n, sql } = await queries(async () => {
      assert.equal((await Product.objects.get({ slug: 'tv' })).id, tv.id)
      assert.equal((await Product.objects.get({ slug: 'cable' })).id, cable.id)
      assert.equal((await Product.objects.get({ pk: tv.id })).slug, 'tv')
    })
    assert.equal(n, 3)
    assert.equal(sql[0], sql[1])
    assert.notEqual(sql[0], sql[2])
  })

  await test('filter lookups: exact, iexact, contains, icontains, in, gt/gte/lt/lte, isnull, starts/endswith, range', async () => {
    await seed()
    const names = async (qs: PromiseLike<P[]>) => (await qs).map((p) => p.name).sort()
    assert.deepEqual(await names(Product.objects.filter({ price__gte: 99.9 })), ['Television', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ price__gt: '99.90' })), ['Television'])
    assert.deepEqual(await names(Product.objects.filter({ price__lt: 10 })), ['Cable 50% off'])
    assert.deepEqual(await names(Product.objects.filter({ stock__lte: 2 })), ['Cable 50% off', 'Television'])
    assert.deepEqual(await names(Product.objects.filter({ name__icontains: 'HEAD' })), ['Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ name__contains: 'HEAD' })), [])
    assert.deepEqual(await names(Product.objects.filter({ name__contains: 'Head' })), ['Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ name__contains: '50%' })), ['Cable 50% off'])
    assert.deepEqual(await names(Product.objects.filter({ name__contains: '5_%' })), [])
    assert.deepEqual(await names(Product.objects.filter({ name__iexact: 'television' })), ['Television'])
    assert.deepEqual(await names(Product.objects.filter({ slug__in: ['tv', 'cable', 'none'] })), ['Cable 50% off', 'Television'])
    assert.deepEqual(await names(Product.objects.filter({ slug__in: [] })), [])
    assert.deepEqual(await names(Product.objects.filter({ released__isnull: false })), ['Cable 50% off'])
    assert.deepEqual(await names(Product.objects.filter({ released__isnull: true, stock__gt: 2 })), ['Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ name__startswith: 'Tele' })), ['Television'])
    assert.deepEqual(await names(Product.objects.filter({ name__startswith: 'tele' })), [])
    assert.deepEqual(await names(Product.objects.filter({ name__istartswith: 'tele' })), ['Television'])
    assert.deepEqual(await names(Product.objects.filter({ name__endswith: 'phones' })), ['Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ name__iendswith: 'OFF' })), ['Cable 50% off'])
    assert.deepEqual(await names(Product.objects.filter({ price__range: ['5', '100'] })), ['Cable 50% off', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ released: '2024-02-29' })), ['Cable 50% off'])
    assert.deepEqual(await names(Product.objects.filter({ active: true, stock__gte: 5 })), ['Wireless Headphones'])
    const tv = await Product.objects.get({ slug: 'tv' })
    assert.deepEqual(await names(Product.objects.filter({ code: tv.code })), ['Television'])
    assert.deepEqual(await names(Product.objects.filter({ code__istartswith: tv.code.slice(0, 8).toUpperCase() })), ['Television'])
    assert.deepEqual(await names(Product.objects.filter({ data: { color: 'black', sizes: [42, 55] } })), ['Television'])
  })

  await test('lookups across relations: FK join, reverse FK and many-to-many without duplicates', async () => {
    const { audio } = await seed()
    const names = async (qs: PromiseLike<{ name: string }[]>) => (await qs).map((p) => p.name).sort()
    assert.deepEqual(await names(Product.objects.filter({ category__name__iexact: 'AUDIO' })), ['Cable 50% off', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ category: audio })), ['Cable 50% off', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ category__in: [audio.id] })), ['Cable 50% off', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ tags__name: 'sale' })), ['Television', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter({ tags__name__in: ['sale', 'new'] })), ['Television', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.exclude({ tags__name: 'sale' })), ['Cable 50% off'])
    assert.deepEqual(await names(Category.objects.filter({ products__price__gt: 400 })), ['Video'])
    assert.deepEqual(await names(Category.objects.filter({ products__tags__name: 'new' })), ['Audio'])
    assert.deepEqual(await names(Tag.objects.filter({ products__slug: 'tv' })), ['sale'])
  })

  await test('exclude and q.or / q.not', async () => {
    await seed()
    const names = async (qs: PromiseLike<P[]>) => (await qs).map((p) => p.name).sort()
    assert.deepEqual(await names(Product.objects.exclude({ category__name: 'Audio' })), ['Television'])
    // Rows where the condition is NULL are kept by exclude, as in Django.
    assert.deepEqual(await names(Product.objects.exclude({ released: '2024-02-29' })), ['Television', 'Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter(q.or({ price__lt: 10 }, { slug: 'tv' }))), ['Cable 50% off', 'Television'])
    assert.deepEqual(await names(Product.objects.filter(q.not(q.or({ price__lt: 10 }, { slug: 'tv' })))), ['Wireless Headphones'])
    assert.deepEqual(await names(Product.objects.filter(q.and({ category__name: 'Audio' }, q.not({ stock: 0 })))), ['Wireless Headphones'])
  })

  await test('ordering, reverse, slicing, count, exists, first, last (pagination)', async () => {
    await seed()
    const byPrice = Product.objects.orderBy('-price', 'name')
    assert.deepEqual((await byPrice).map((p) => p.slug), ['tv', 'wireless-headphones', 'cable'])
    assert.deepEqual((await byPrice.reverse()).map((p) => p.slug), ['cable', 'wireless-headphones', 'tv'])
    assert.deepEqual((await Product.objects.all()).map((p) => p.slug), ['cable', 'tv', 'wireless-headphones'])
    assert.deepEqual((await Product.objects.orderBy('category__name', '-stock')).map((p) => p.slug), ['wireless-headphones', 'cable', 'tv'])
    const page2 = byPrice.slice(1, 3)
    assert.deepEqual((await page2).map((p) => p.slug), ['wireless-headphones', 'cable'])
    assert.equal(await page2.count(), 2)
    assert.equal(await byPrice.slice(2).count(), 1)
    assert.deepEqual((await byPrice.offset(1).limit(1)).map((p) => p.slug), ['wireless-headphones'])
    assert.deepEqual((await byPrice.slice(1).slice(1)).map((p) => p.slug), ['cable'])
    assert.equal(await Product.objects.count(), 3)
    assert.equal(await Product.objects.filter({ price__gt: 1000 }).count(), 0)
    assert.equal(await Product.objects.filter({ slug: 'tv' }).exists(), true)
    assert.equal(await Product.objects.filter({ slug: 'radio' }).exists(), false)
    assert.equal((await byPrice.first())?.slug, 'tv')
    assert.equal((await byPrice.last())?.slug, 'cable')
    assert.equal(await Product.objects.filter({ slug: 'radio' }).first(), null)
    assert.equal(await Product.objects.none().count(), 0)
    assert.throws(() => byPrice.slice(-1), /needs integers/)
    assert.throws(() => byPrice.slice(0, 1).filter({ slug: 'tv' }), /sliced/)
  })

  await test('async iteration, thenable, toArray, and the result cache', async () => {
    await seed()
    const qs = Product.objects.filter({ stock__gte: 0 })
    const seen: string[] = []
    for await (const p of qs) seen.push(p.slug)
    assert.equal(seen.length, 3)
    const { n } = await queries(async () => {
      await qs
      await qs.toArray()
      assert.equal(await qs.count(), 3)
    })
    assert.equal(n, 0, 'an evaluated query set answers from its cache')
    const { n: n2 } = await queries(async () => {
      await Product.objects
      await Product.objects
    })
    assert.equal(n2, 2, 'a manager never caches')
  })

  await test('values and valuesList, across foreign keys', async () => {
    await seed()
    assert.deepEqual(await Product.objects.orderBy('price').values('slug', 'price'), [
      { slug: 'cable', price: '5.00' }, { slug: 'wireless-headphones', price: '99.90' }, { slug: 'tv', price: '499.00' },
    ])
    assert.deepEqual(await Product.objects.orderBy('price').values('slug', 'category__name'), [
      { slug: 'cable', category__name: 'Audio' }, { slug: 'wireless-headphones', category__name: 'Audio' }, { slug: 'tv', category__name: 'Video' },
    ])
    assert.deepEqual(await Product.objects.orderBy('price').valuesList(['slug'], { flat: true }), ['cable', 'wireless-headphones', 'tv'])
    assert.deepEqual(await Product.objects.orderBy('price').valuesList(['slug', 'stock']), [['cable', 0], ['wireless-headphones', 5], ['tv', 2]])
  })

  await test('aggregates: count, sum, avg, min, max (numbers and exact decimals)', async () => {
    await seed()
    const r = await Product.objects.aggregate({ n: count(), total: sum('price'), stock: sum('stock'), mean: avg('stock'), cheapest: min('price'), latest: max('created'), cats: count('category', { distinct: true }) })
    assert.deepEqual({ ...r, latest: undefined }, { n: 3, total: '603.90', stock: 7, mean: 7 / 3, cheapest: '5.00', latest: undefined, cats: 2 })
    assert.ok(r.latest instanceof Date)
    assert.deepEqual(await Product.objects.filter({ category__name: 'Audio' }).aggregate({ total: sum('price'), max: max('stock') }), { total: '104.90', max: 5 })
    assert.deepEqual(await Product.objects.filter({ price__gt: 1e6 }).aggregate({ n: count(), total: sum('price') }), { n: 0, total: null })
    await assert.rejects(async () => Product.objects.aggregate({ x: sum('name') }), { code: 'CW_ERR_FIELD_ERROR' })
  })

  await test('update: query set, save() on instances, autoNow', async () => {
    const { headphones, tv } = await seed()
    assert.equal(await Product.objects.filter({ category__name: 'Audio' }).update({ stock: 10 }), 2)
    assert.equal(await Product.objects.filter({ stock: 10 }).count(), 2)
    assert.equal(await Product.objects.filter({ slug: 'tv' }).update({ price: 450.5, active: false }), 1)
    const fresh = await Product.objects.get({ slug: 'tv' })
    assert.equal(fresh.price, '450.50')
    assert.equal(fresh.active, false)
    const before = tv.updated.getTime()
    headphones.name = 'Headphones'
    headphones.price = '89.00'
    while (Date.now() <= before) await new Promise((r) => setImmediate(r)) // autoNow must move past the creation millisecond
    await headphones.save()
    const again = await Product.objects.get({ pk: headphones.id })
    assert.equal(again.name, 'Headphones')
    assert.equal(again.price, '89.00')
    assert.ok(again.updated.getTime() > before)
    tv.stock = 99
    await tv.save({ updateFields: ['stock'] })
    await tv.refresh()
    assert.equal(tv.stock, 99)
    assert.equal(tv.price, '450.50', 'updateFields leaves other columns alone')
    await assert.rejects(async () => Product.objects.update({ nope: 1 } as never), { code: 'CW_ERR_FIELD_ERROR', message: /shop\.Product: update\(\): unknown field 'nope'/ })
    // F(): arithmetic in the database, also in filters and across joins in filters.
    assert.equal(await Product.objects.filter({ slug: 'tv' }).update({ stock: F('stock').minus(9), price: F('price').times(2) }), 1)
    const doubled = await Product.objects.get({ slug: 'tv' })
    assert.equal(doubled.stock, 90)
    assert.equal(doubled.price, '901.00')
    assert.deepEqual((await Product.objects.filter({ stock__gt: F('stock').minus(1), price__gt: F('stock') })).map((p) => p.slug).sort(), ['tv', 'wireless-headphones'], 'cable: price 5.00 is not above its stock 10')
    assert.throws(() => Product.objects.filter({ stock__lt: F('nope') }), { code: 'CW_ERR_FIELD_ERROR' })
    assert.throws(() => F('stock').plus(Number.NaN), /finite number/)
  })

  await test('delete: CASCADE, SET_NULL, PROTECT, RESTRICT and many-to-many links', async () => {
    const { audio, headphones, tv } = await seed()
    const ann = await Author.objects.create({ name: 'Ann' })
    await Review.objects.create({ product: headphones, author: ann, rating: 5 })
    await Review.objects.create({ product: tv, author: ann, editor: ann, rating: 3 })
    const res = await audio.delete()
    assert.equal(res.byModel['shop.Category'], 1)
    assert.equal(res.byModel['shop.Product'], 2)
    assert.equal(res.byModel['shop.Review'], 1)
    assert.equal(res.byModel['shop.Product_tags'], 2)
    assert.equal(await Product.objects.count(), 1)
    assert.equal(await Review.objects.count(), 1)
    assert.equal(await Product.objects.filter({ tags__name: 'new' }).count(), 0)
    await ann.delete()
    assert.equal((await Review.objects.get({ product: tv })).authorId, null, 'SET_NULL')
    assert.equal((await Review.objects.get({ product: tv })).editorId, null, 'SET_DEFAULT')
    const acme = await Brand.objects.create({ name: 'Acme' })
    await Product.objects.filter({ pk: tv.id }).update({ brand: acme })
    await assert.rejects(acme.delete(), { code: 'CW_ERR_PROTECTED', message: /protected foreign key shop\.Product\.brand/ })
    assert.equal(await Brand.objects.count(), 1, 'nothing deleted after PROTECT')
    const shelf = await Shelf.objects.create({ label: 'A1' })
    await Product.objects.filter({ pk: tv.id }).update({ shelf })
    await assert.rejects(Shelf.objects.all().delete(), { code: 'CW_ERR_PROTECTED', message: /restricted/ })
    await Product.objects.filter({ pk: tv.id }).update({ shelf: null, brand: null })
    assert.equal((await Shelf.objects.filter({ label: 'A1' }).delete()).deleted, 1)
    assert.equal((await Tag.objects.filter({ name: 'sale' }).delete()).byModel['shop.Product_tags'], 1)
  })

  await test('getOrCreate, updateOrCreate, bulkCreate', async () => {
    const { audio } = await seed()
    const [c1, created1] = await Category.objects.getOrCreate({ name: 'Audio' })
    assert.equal(created1, false)
    assert.equal(c1.id, audio.id)
    const [c2, created2] = await Category.objects.getOrCreate({ name: 'Games' })
    assert.equal(created2, true)
    assert.equal((await Category.objects.get({ name: 'Games' })).id, c2.id)
    const [p, made] = await Product.objects.updateOrCreate({ slug: 'tv' }, { price: '1.00' })
    assert.equal(made, false)
    assert.equal((await Product.objects.get({ slug: 'tv' })).price, '1.00')
    const [p2, made2] = await Product.objects.updateOrCreate({ slug: 'radio' }, { name: 'Radio', price: 20, category: audio })
    assert.equal(made2, true)
    assert.equal(p2.name, 'Radio')
    assert.equal(p.slug, 'tv')
    const many = await World.objects.bulkCreate(Array.from({ length: 250 }, (_, i) => ({ randomNumber: i + 1 })))
    assert.equal(many.length, 250)
    assert.ok(many.every((w) => typeof w.id === 'number'))
    assert.equal(await World.objects.count(), 250)
    const explicit = await World.objects.create({ id: 1000, randomNumber: 1 })
    assert.equal(explicit.id, 1000)
    assert.equal((await World.objects.create({ randomNumber: 2 })).id, 1001, 'the id sequence moved past explicit ids')
  })

  await test('getOrCreate under concurrency returns one row', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => Category.objects.getOrCreate({ name: 'Race' })))
    assert.equal(new Set(results.map(([c]) => c.id)).size, 1)
    assert.equal(results.filter(([, created]) => created).length, 1)
    assert.equal(await Category.objects.filter({ name: 'Race' }).count(), 1)
  })

  await test('selectRelated joins in one query; prefetchRelated adds one query per relation', async () => {
    await seed()
    const { result, n } = await queries(() => Product.objects.selectRelated('category').orderBy('price').toArray())
    assert.equal(n, 1)
    assert.deepEqual(result.map((p) => p.category.name), ['Audio', 'Audio', 'Video'])
    const lazy = await Product.objects.orderBy('price').first()
    assert.throws(() => lazy!.category, /not loaded: use selectRelated\('category'\)/)
    assert.equal(((await lazy!.load('category')) as { name: string }).name, 'Audio')
    assert.equal(lazy!.category.name, 'Audio')
    assert.equal(lazy!.brand, null)
    for (let i = 0; i < 5; i++) await Product.objects.create({ name: `Extra ${i}`, slug: `extra-${i}`, price: 1, category: (await Category.objects.get({ name: 'Video' })).id })
    const { result: prods, n: n2 } = await queries(() => Product.objects.prefetchRelated('tags', 'category').toArray())
    assert.equal(n2, 3, 'products + tags + categories, whatever the row count')
    assert.deepEqual(prods.find((p) => p.slug === 'wireless-headphones')!.tags.cached.map((x) => x.name), ['new', 'sale'])
    assert.deepEqual(prods.find((p) => p.slug === 'cable')!.tags.cached, [])
    assert.equal(prods.find((p) => p.slug === 'tv')!.category.name, 'Video')
    const { result: cats, n: n3 } = await queries(() => Category.objects.prefetchRelated('products').toArray())
    assert.equal(n3, 2)
    const products = (c: (typeof cats)[number]) => (c as unknown as { products: { cached: P[] } }).products.cached
    assert.deepEqual(cats.map((c) => products(c).length), [2, 6])
    const { n: n4 } = await queries(async () => {
      for (const c of cats) await (c as unknown as { products: { all(): Promise<P[]> } }).products.all()
    })
    assert.equal(n4, 0, 'prefetched managers answer from the cache')
    const audioCat = cats.find((c) => c.name === 'Audio') as unknown as { products: { all(): { filter(c: object): Promise<P[]> } } }
    assert.deepEqual((await audioCat.products.all().filter({ price__lt: 10 })).map((p) => p.slug), ['cable'], 'chaining on a prefetched manager keeps its owner filter')
    const { result: nested, n: n6 } = await queries(() => Category.objects.prefetchRelated('products__tags', 'products__category').toArray())
    assert.equal(n6, 4, 'categories + products + tags + categories: one query per level')
    const audioProducts = (nested[0] as unknown as { products: { cached: P[] } }).products.cached
    assert.deepEqual(audioProducts.map((p) => [p.slug, p.tags.cached.map((t) => t.name), p.category.name]), [['cable', [], 'Audio'], ['wireless-headphones', ['new', 'sale'], 'Audio']])
    assert.throws(() => Category.objects.prefetchRelated('products__nope'), { code: 'CW_ERR_FIELD_ERROR', message: /shop\.Product: prefetchRelated\('products__nope'\): 'nope' is not a relation/ })
    const { result: tags, n: n5 } = await queries(() => Tag.objects.prefetchRelated('products').toArray())
    assert.equal(n5, 2)
    assert.deepEqual(tags.map((t) => (t as unknown as { products: { cached: P[] } }).products.cached.map((p) => p.slug)), [['wireless-headphones'], ['tv', 'wireless-headphones']])
  })

  await test('related managers: add, remove, set, clear, create, filter', async () => {
    const { headphones, fresh, sale, audio } = await seed()
    assert.deepEqual((await headphones.tags.all()).map((t) => t.name), ['new', 'sale'])
    await headphones.tags.add(sale) // already linked: no duplicate
    assert.equal(await headphones.tags.count(), 2)
    await headphones.tags.remove(fresh)
    assert.deepEqual((await headphones.tags.all()).map((t) => t.name), ['sale'])
    const gift = await headphones.tags.create({ name: 'gift' })
    assert.deepEqual((await headphones.tags.all()).map((t) => t.name), ['gift', 'sale'])
    await headphones.tags.set([fresh, gift])
    assert.deepEqual((await headphones.tags.filter({ name__startswith: 'g' })).map((t) => t.name), ['gift'])
    assert.deepEqual((await headphones.tags.all()).map((t) => t.name), ['gift', 'new'])
    await headphones.tags.clear()
    assert.equal(await headphones.tags.count(), 0)
    const products = (audio as unknown as { products: { create(d: object): Promise<P>; count(): Promise<number> } }).products
    await products.create({ name: 'Speaker', slug: 'speaker', price: 30 })
    assert.equal(await products.count(), 3)
  })

  await test('bad input: unknown field or lookup names the model; unique and NOT NULL raise IntegrityError', async () => {
    await seed()
    assert.throws(() => Product.objects.filter({ nme: 'x' }), (e: any) => e.code === 'CW_ERR_FIELD_ERROR' && /shop\.Product: cannot resolve keyword 'nme'.*Choices are: .*name/.test(e.message))
    assert.throws(() => Product.objects.filter({ price__near: 1 }), { code: 'CW_ERR_FIELD_ERROR', message: /shop\.Product: unsupported lookup 'near' on field 'price'/ })
    assert.throws(() => Product.objects.filter({ category__title: 'x' }), { code: 'CW_ERR_FIELD_ERROR', message: /shop\.Category: cannot resolve keyword 'title'/ })
    assert.throws(() => Product.objects.filter({ stock__icontains: '1' }), { code: 'CW_ERR_FIELD_ERROR', message: /unsupported lookup 'icontains' for integer field 'stock'/ })
    assert.throws(() => Product.objects.filter({ slug__in: 'tv' }), { code: 'CW_ERR_FIELD_ERROR', message: /needs an array/ })
    assert.throws(() => Product.objects.orderBy('nope'), { code: 'CW_ERR_FIELD_ERROR' })
    assert.throws(() => Product.objects.selectRelated('tags'), { code: 'CW_ERR_FIELD_ERROR', message: /not a foreign key/ })
    assert.throws(() => Product.objects.prefetchRelated('nothing'), { code: 'CW_ERR_FIELD_ERROR' })
    await assert.rejects(async () => Product.objects.create({ bogus: 1 } as never), { code: 'CW_ERR_FIELD_ERROR', message: /shop\.Product: unknown field 'bogus'/ })
    await assert.rejects(Category.objects.create({ name: 'Audio' }), (e: any) => {
      assert.equal(e.code, 'CW_ERR_INTEGRITY')
      assert.equal(e.kind, 'unique')
      assert.equal(e.name, 'IntegrityError')
      return true
    })
    await assert.rejects(Product.objects.create({ name: 'X', slug: 'x', price: 1, category: 999999 }), { code: 'CW_ERR_INTEGRITY', kind: 'foreignKey' })
    await assert.rejects(Product.objects.filter({ slug: 'tv' }).update({ name: null as never }), { code: 'CW_ERR_INTEGRITY', kind: 'notNull' })
    // Values that cannot fit the field: the same 400 error on both dialects, naming model.field.
    await assert.rejects(Product.objects.get({ id: 'abc' as never }), { code: 'CW_ERR_BAD_VALUE', status: 400, message: /shop\.Product\.id expects an integer, got "abc"/ })
    await assert.rejects(async () => Product.objects.filter({ price__gte: 'cheap' }).toArray(), { code: 'CW_ERR_BAD_VALUE', message: /shop\.Product\.price expects a decimal/ })
    await assert.rejects(async () => Product.objects.filter({ code: 'not-a-uuid' }).toArray(), { code: 'CW_ERR_BAD_VALUE' })
    await assert.rejects(async () => Product.objects.filter({ released__gt: '2024-13' }).toArray(), { code: 'CW_ERR_BAD_VALUE' })
    await assert.rejects(async () => Product.objects.filter({ stock__in: [1, 'x'] }).toArray(), { code: 'CW_ERR_BAD_VALUE' })
    await assert.rejects(Product.objects.filter({ slug: 'tv' }).update({ stock: 1.5 }), { code: 'CW_ERR_BAD_VALUE' })
    await assert.rejects(Product.objects.create({ name: 'X', slug: 'x', price: 'NaN', category: 1 }), { code: 'CW_ERR_BAD_VALUE' })
    assert.equal((await Product.objects.get({ id: String((await Product.objects.get({ slug: 'tv' })).id) as never })).slug, 'tv', 'numeric strings are accepted (URL parameters)')
  })

  await test('atomic: commit, rollback on throw, nested savepoints, onCommit', async () => {
    const events: string[] = []
    await atomic(async () => {
      assert.equal(inTransaction(), true)
      await Category.objects.create({ name: 'A' })
      await onCommit(() => void events.push('outer'))
      await assert.rejects(atomic(async () => {
        await Category.objects.create({ name: 'B' })
        await onCommit(() => void events.push('inner-rolled-back'))
        throw new Error('inner fails')
      }), /inner fails/)
      await atomic(async () => {
        await Category.objects.create({ name: 'C' })
        await onCommit(() => void events.push('inner-kept'))
      })
      assert.deepEqual(events, [], 'callbacks wait for the outer commit')
    })
    assert.deepEqual((await Category.objects.all()).map((c) => c.name), ['A', 'C'])
    assert.deepEqual(events, ['outer', 'inner-kept'])
    await assert.rejects(atomic(async () => {
      await Category.objects.create({ name: 'D' })
      await onCommit(() => void events.push('never'))
      throw new Error('boom')
    }), /boom/)
    assert.equal(await Category.objects.filter({ name: 'D' }).exists(), false)
    assert.ok(!events.includes('never'))
    // A unique violation inside atomic rolls the whole block back.
    await assert.rejects(atomic(async () => {
      await Category.objects.create({ name: 'E' })
      await Category.objects.create({ name: 'A' })
    }), { code: 'CW_ERR_INTEGRITY' })
    assert.equal(await Category.objects.filter({ name: 'E' }).exists(), false)
    const view = withAtomic(async (name: string) => {
      await Category.objects.create({ name })
      if (name === 'bad') throw new Error('view failed')
      return name
    })
    assert.equal(await view('ok'), 'ok')
    await assert.rejects(view('bad'), /view failed/)
    assert.deepEqual((await Category.objects.all()).map((c) => c.name), ['A', 'C', 'ok'])
  })

  await test('selectForUpdate locks rows inside atomic() and is refused outside', async () => {
    await seed()
    await assert.rejects(Product.objects.selectForUpdate().filter({ slug: 'tv' }).toArray(), { code: 'CW_ERR_DB_USAGE', message: /needs a transaction/ })
    const stock = await atomic(async () => {
      const tv = await Product.objects.selectForUpdate().selectRelated('category').get({ slug: 'tv' })
      tv.stock -= 1
      await tv.save()
      return tv.stock
    })
    assert.equal(stock, 1)
    if (dialect === 'postgres') {
      assert.match(Product.objects.selectForUpdate().toSQL().sql, /FOR UPDATE OF "shop_product"$/)
      const { sql: seen } = await queries(() => atomic(() => Product.objects.selectForUpdate().get({ slug: 'tv' })))
      assert.ok(seen.some((s) => s.includes('FOR UPDATE')), 'get() by a unique field keeps the lock')
    }
  })

  await test('concurrent transactions in one process do not interleave', async () => {
    await Promise.all(Array.from({ length: 6 }, (_, i) => atomic(async () => {
      const c = await Category.objects.create({ name: `c${i}` })
      await new Promise((r) => setImmediate(r))
      await Category.objects.filter({ pk: c.id }).update({ name: `done${i}` })
      if (i % 2) throw new Error('odd fails')
    }).catch(() => {})))
    assert.deepEqual((await Category.objects.all()).map((c) => c.name), ['done0', 'done2', 'done4'])
  })

  await test('dbTable and dbColumn (TechEmpower tables world and fortune)', async () => {
    await World.objects.bulkCreate([{ id: 1, randomNumber: 10 }, { id: 2, randomNumber: 20 }])
    await Fortune.objects.create({ id: 7, message: '<script>alert("x")</script>' })
    const rows = await conn.query({ sql: 'SELECT id, randomnumber FROM world ORDER BY id', params: [] })
    assert.deepEqual(rows, [[1, 10], [2, 20]])
    const w = await World.objects.get({ id: 2 })
    assert.equal(w.randomNumber, 20)
    w.randomNumber = 21
    await w.save()
    assert.equal((await World.objects.get({ pk: 2 })).randomNumber, 21)
    assert.equal((await Fortune.objects.get({ pk: 7 })).message, '<script>alert("x")</script>')
    assert.equal(World.meta.table, 'world')
    assert.equal(World.meta.field('randomNumber')!.column, 'randomnumber')
  })

  await test('self-referencing foreign key: joins with aliases, selectRelated, SET_NULL on delete', async () => {
    const root = await Node.objects.create({ name: 'root' })
    const mid = await Node.objects.create({ name: 'mid', parent: root })
    await Node.objects.create({ name: 'leaf', parent: mid })
    assert.deepEqual((await Node.objects.filter({ parent__parent__name: 'root' })).map((n) => n.name), ['leaf'])
    assert.deepEqual((await Node.objects.filter({ children__name: 'leaf' })).map((n) => n.name), ['mid'])
    const leaf = await Node.objects.selectRelated('parent__parent').get({ name: 'leaf' })
    const parent = leaf.parent as unknown as { name: string; parent: { name: string } }
    assert.equal(parent.name, 'mid')
    assert.equal(parent.parent.name, 'root')
    // NULLs sort last ascending, first descending, on both dialects.
    assert.deepEqual(await Node.objects.orderBy('parent__name', 'name').valuesList(['name'], { flat: true }), ['leaf', 'mid', 'root'])
    assert.deepEqual(await Node.objects.orderBy('-parent__name', 'name').valuesList(['name'], { flat: true }), ['root', 'mid', 'leaf'])
    await mid.delete()
    assert.equal((await Node.objects.get({ name: 'leaf' })).parentId, null)
  })

  await test('field metadata for forms and admin', async () => {
    const name = Product.meta.field('name')!
    assert.equal(name.options.verboseName, 'product name')
    assert.equal(name.verboseName, 'product name')
    assert.equal(Product.meta.field('created')!.verboseName, 'created')
    assert.equal(Review.meta.field('product')!.verboseName, 'product')
    assert.equal(name.options.helpText, 'Shown in listings')
    assert.equal(name.options.maxLength, 200)
    assert.deepEqual(Product.meta.field('kind')!.options.choices, [['physical', 'Physical'], ['digital', 'Digital']])
    assert.equal(Product.meta.field('description')!.options.blank, true)
    assert.equal(Product.meta.field('category')!.target, Category.meta)
    assert.equal(Product.meta.pk.name, 'id')
    assert.equal(Category.meta.verboseNamePlural, 'categories')
    assert.deepEqual(Product.meta.manyToMany.map((m) => m.name), ['tags'])
  })

  await test('Drizzle escape hatch: the same table through drizzle-orm', async () => {
    await seed()
    assert.equal(drizzleTable(Product), drizzleTable(Product, dialect), 'defaults to the active dialect')
    if (dialect === 'sqlite') {
      const { drizzle } = await import('drizzle-orm/better-sqlite3')
      const { gt } = await import('drizzle-orm')
      const t = drizzleTable(Product, 'sqlite')
      const db = drizzle((conn as unknown as { handle: never }).handle)
      const rows = db.select({ slug: t.slug }).from(t).where(gt(t.stock, 1)).orderBy(t.slug).all()
      assert.deepEqual(rows, [{ slug: 'tv' }, { slug: 'wireless-headphones' }])
    } else {
      const { drizzle } = await import('drizzle-orm/node-postgres')
      const { gt } = await import('drizzle-orm')
      const t = drizzleTable(Product, 'postgres')
      const db = drizzle((conn as unknown as { pool: never }).pool)
      const rows = await db.select({ slug: t.slug, price: t.price }).from(t).where(gt(t.stock, 1)).orderBy(t.slug)
      assert.deepEqual(rows, [{ slug: 'tv', price: '499.00' }, { slug: 'wireless-headphones', price: '99.90' }])
    }
  })

  await test('query shapes: SQL built once per shape, reused with new parameters; values that change the SQL are other shapes', async () => {
    const { cable, tv, headphones } = await seed()
    const seen: { sql: string; params: unknown[]; prepared: boolean }[] = []
    queryHooks.onQuery = (q, prepared) => void seen.push({ sql: q.sql, params: q.params, prepared: !!prepared })
    const last = () => seen.at(-1)!
    try {
      // filter().first(): one text, two parameter sets, prepared the second time.
      const shapes = cachedShapeCount(Product.meta)
      assert.equal((await Product.objects.filter({ slug: 'cable', stock__gte: 0 }).first())!.id, cable.id)
      const first = last()
      assert.equal(cachedShapeCount(Product.meta), shapes + 1, 'the parameters collected for the cache matched the ones Drizzle rendered')
      assert.equal((await Product.objects.filter({ slug: 'tv', stock__gte: 1 }).first())!.id, tv.id)
      assert.equal(last().sql, first.sql)
      assert.deepEqual(last().params, ['tv', 1, 1])
      assert.equal(last().prepared, true)
      assert.equal(await Product.objects.filter({ slug: 'tv', stock__gte: 3 }).first(), null)

      // NULL compares are IS NULL: another text, and the right rows either way.
      assert.deepEqual((await Product.objects.filter({ released: null })).map((p) => p.slug).sort(), ['tv', 'wireless-headphones'])
      const isNull = last().sql
      assert.deepEqual((await Product.objects.filter({ released: '2024-02-29' })).map((p) => p.slug), ['cable'])
      assert.notEqual(last().sql, isNull)
      assert.deepEqual((await Product.objects.filter({ released: null })).map((p) => p.slug).sort(), ['tv', 'wireless-headphones'])
      assert.equal(last().sql, isNull)
      assert.equal(await Product.objects.filter({ released__isnull: true }).count(), 2)
      assert.equal(await Product.objects.filter({ released__isnull: false }).count(), 1)
      assert.equal(await Product.objects.filter({ released__isnull: true }).count(), 2)

      // in: the list's length is part of the shape (and such statements are not prepared).
      assert.equal(await Product.objects.filter({ slug__in: ['tv'] }).count(), 1)
      assert.equal(await Product.objects.filter({ slug__in: ['tv', 'cable'] }).count(), 2)
      assert.equal(await Product.objects.filter({ slug__in: ['cable', null] }).count(), 1)
      assert.equal(await Product.objects.filter({ slug__in: [] }).count(), 0)
      assert.equal(await Product.objects.filter({ slug__in: ['nope', 'tv'] }).count(), 1)
      // (SQLite reports every statement as prepared: better-sqlite3 keeps a statement cache.)
      if (dialect === 'postgres') assert.equal(last().prepared, false)

      // Slices: bounds are parameters.
      const names = async (a: number, b: number) => (await Product.objects.orderBy('slug').slice(a, b)).map((p) => p.slug)
      assert.deepEqual(await names(0, 1), ['cable'])
      const noOffset = last().sql
      assert.deepEqual(await names(1, 3), ['tv', 'wireless-headphones'])
      const withOffset = last().sql
      assert.notEqual(withOffset, noOffset)
      assert.deepEqual(await names(2, 3), ['wireless-headphones'])
      assert.equal(last().sql, withOffset)
      assert.deepEqual(await names(0, 2), ['cable', 'tv'])
      assert.equal(last().sql, noOffset)

      // Patterns are escaped per value through the cache (% is a literal in the first name).
      assert.equal(await Product.objects.filter({ name__contains: '50%' }).count(), 1)
      assert.equal(await Product.objects.filter({ name__contains: 'Head' }).count(), 1)
      assert.equal(await Product.objects.filter({ name__contains: 'head' }).count(), 0)
      assert.equal(await Product.objects.filter({ name__icontains: 'head' }).count(), 1)
      assert.equal(await Product.objects.filter({ name__icontains: '50%' }).count(), 1)
      assert.equal(await Product.objects.filter({ name__icontains: '5_%' }).count(), 0)

      // Q trees, exists, relations, values.
      const orQ = (a: string, b: string) => Product.objects.filter(q.or({ slug: a }, q.not({ stock__lt: b === 'x' ? 100 : 3 })))
      assert.equal(await orQ('cable', 'x').count(), 1)
      assert.equal(await orQ('tv', 'y').count(), 2)
      assert.equal(await Product.objects.filter({ category__name: 'Audio' }).exists(), true)
      assert.equal(await Product.objects.filter({ category__name: 'Nope' }).exists(), false)
      assert.deepEqual(await Product.objects.filter({ stock__gt: 1 }).orderBy('slug').valuesList(['slug'], { flat: true }), ['tv', 'wireless-headphones'])
      assert.deepEqual(await Product.objects.filter({ stock__gt: 4 }).orderBy('slug').valuesList(['slug'], { flat: true }), ['wireless-headphones'])
      assert.equal((await Product.objects.filter({ tags__name: 'new' }).first())!.id, headphones.id)
      assert.equal((await Product.objects.filter({ tags__name: 'sale' }).orderBy('-slug').first())!.id, headphones.id)

      // F() expressions are not cached (built every time) and still work.
      const before = cachedShapeCount(Product.meta)
      assert.equal(await Product.objects.filter({ stock__gt: F('stock').minus(1) }).count(), 3)
      assert.equal(cachedShapeCount(Product.meta), before)
    } finally {
      queryHooks.onQuery = undefined
    }
  })
}

export { ALL }
