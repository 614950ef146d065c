// Filter trees: filter({a: 1, b__gt: 2}) is an AND of leaves; q.or / q.and / q.not combine them
// (Django's Q objects). Leaves are resolved against the model when they are added, so a bad field
// name throws at filter() time, not when the query runs.
import type { ModelMeta } from '../meta.ts'
import { resolvePath, type Resolved } from './resolve.ts'

export type Condition = Record<string, unknown> | WhereNode

export type WhereNode =
  | { kind: 'leaf'; path: string; value: unknown; resolved?: Resolved }
  | { kind: 'and' | 'or'; children: WhereNode[] }
  | { kind: 'not'; child: WhereNode }

const isNode = (c: Condition): c is WhereNode =>
  typeof (c as WhereNode).kind === 'string' && ((c as WhereNode).kind === 'and' || (c as WhereNode).kind === 'or' || (c as WhereNode).kind === 'not' || (c as WhereNode).kind === 'leaf') &&
  Object.getPrototypeOf(c) === NodeProto

const NodeProto = {}
const node = <T extends WhereNode>(n: T): T => Object.assign(Object.create(NodeProto), n)

function toNode(c: Condition): WhereNode {
  if (isNode(c)) return c
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new TypeError(`a filter condition must be an object of lookups or a q.or/q.and/q.not node, got ${JSON.stringify(c)}`)
  const leaves = Object.entries(c).map(([path, value]) => node({ kind: 'leaf' as const, path, value }))
  return leaves.length === 1 ? leaves[0]! : node({ kind: 'and' as const, children: leaves })
}

/**
 * Q-style combinators for filter()/exclude().
 * @example Product.objects.filter(q.or({ price__lt: 10 }, q.not({ category__name: 'Audio' })))
 */
export const q = {
  or: (...conds: Condition[]): WhereNode => node({ kind: 'or', children: conds.map(toNode) }),
  and: (...conds: Condition[]): WhereNode => node({ kind: 'and', children: conds.map(toNode) }),
  not: (cond: Condition): WhereNode => node({ kind: 'not', child: toNode(cond) }),
}

/** Converts a condition to a node with every leaf resolved against `meta` (throws FieldError). */
export function bindCondition(meta: ModelMeta, c: Condition): WhereNode {
  return bindNode(meta, toNode(c))
}

function bindNode(meta: ModelMeta, n: WhereNode): WhereNode {
  switch (n.kind) {
    case 'leaf': return { ...n, resolved: resolvePath(meta, n.path, n.value) }
    case 'not': return { kind: 'not', child: bindNode(meta, n.child) }
    default: return { kind: n.kind, children: n.children.map((c) => bindNode(meta, c)) }
  }
}
