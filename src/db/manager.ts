// Model.objects: the root query set of a model. Unlike a query set it never caches results, so
// `await Product.objects` always queries.
import type { AnyModel, Row } from './types.ts'
import { QuerySet } from './queryset.ts'

/**
 * @example
 * const p = await Product.objects.get({ slug: 'wireless-headphones' })
 * const cheap = await Product.objects.filter({ price__lt: 20 }).orderBy('-created').slice(0, 10)
 */
export class Manager<M extends AnyModel> extends QuerySet<M, Row<M>> {
  override toArray(): Promise<Row<M>[]> {
    return this.all().toArray()
  }
  override count(): Promise<number> {
    return this.all().count()
  }
  override exists(): Promise<boolean> {
    return this.all().exists()
  }
}
