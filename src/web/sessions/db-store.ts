// Database sessions (the default): one row per session in causeway_session.
import { SessionModel } from './models.ts'
import { DoesNotExist, currentExecutor, type AnyModel, type Executor } from '../../db/index.ts'
import { EMPTY, buildSelect, readRows } from '../../db/query/build.ts'
import { decodeRecord, encodeRecord, newSessionKey, SESSION_KEY_RE, type SessionRecord, type SessionStore } from './store.ts'

/** A session and the row loaded with it in the same query (DbSessionStore.loadWithRow). */
export interface SessionWithRow<R> {
  record: SessionRecord | null
  /** The row whose primary key the session's data names; null when none (or no session). */
  row: R | null
}

interface JoinedSelect { sql: string; width: number; pkIndex: number }
const joinedSelects = new Map<string, JoinedSelect>()
const DATA_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

// SELECT session_data, expire_date, <model's columns> FROM causeway_session LEFT JOIN <table> ON
// <pk> = <the integer under d.<dataKey> in the session's JSON>, built once per dialect and shape.
// PostgreSQL reads the id with a regular expression on the text (a cast to json would fail the
// whole query on a garbled row); SQLite with json_extract behind json_valid. Either may find
// nothing or a wrong id in odd data (the key nested deeper): callers check the row's pk against
// the decoded data and fall back to a query of their own.
function joinedSelect(ex: Executor, model: AnyModel, dataKey: string): JoinedSelect {
  const key = `${ex.dialect.name}:${model.meta.label}:${dataKey}`
  let j = joinedSelects.get(key)
  if (j) return j
  const meta = model.meta
  const select = ex.dialect.render(buildSelect(meta, EMPTY, ex).stmt).sql
  const cols = select.slice('SELECT '.length, select.lastIndexOf(' FROM '))
  const s = SessionModel.meta
  const col = (name: string) => `"s".${quote(s.field(name)!.column)}`
  const data = col('sessionData')
  const id = ex.dialect.name === 'postgres'
    ? `CAST(substring(${data} from '"${dataKey}":([0-9]{1,18})[,}]') AS bigint)`
    : `(CASE WHEN json_valid(${data}) THEN json_extract(${data}, '$.d.${dataKey}') END)`
  const param = ex.dialect.name === 'postgres' ? '$1' : '?'
  const sql = `SELECT ${data}, ${col('expireDate')}, ${cols} FROM ${quote(s.table)} AS "s" LEFT JOIN ${quote(meta.table)} ON ${quote(meta.table)}.${quote(meta.pk.column)} = ${id} WHERE ${col('sessionKey')} = ${param}`
  j = { sql, width: meta.fields.length, pkIndex: meta.fields.indexOf(meta.pk) }
  joinedSelects.set(key, j)
  return j
}

/** A row's expiry date is still ahead (anything else, a garbled value included, counts as expired). */
const unexpired = (expireDate: unknown): boolean => expireDate instanceof Date && expireDate.getTime() > Date.now()

/** @example createSessionMiddleware({ store: new DbSessionStore() }) */
export class DbSessionStore implements SessionStore {
  readonly kind = 'db'

  async load(cookie: string): Promise<SessionRecord | null> {
    if (!SESSION_KEY_RE.test(cookie)) return null // never query for junk
    // get() by the primary key runs one cached statement (prepared on PostgreSQL) instead of
    // building a filter per request; an expired row is treated as missing here.
    let row
    try {
      row = await SessionModel.objects.get({ sessionKey: cookie })
    } catch (e) {
      if (e instanceof DoesNotExist) return null
      throw e
    }
    if (!unexpired(row.expireDate)) return null
    return decodeRecord(row.sessionData)
  }

  /**
   * Loads the session and, in the same query (one round trip instead of two), the row of `model`
   * whose primary key the session's data holds under `dataKey` — the auth layer loads the user
   * this way. The row may be missing or another one in odd data: compare its pk with the
   * decoded record's value before trusting it.
   * @example const { record, row } = await store.loadWithRow(cookie, User, '_auth_user_id')
   */
  // Not async (it runs on every logged-in page): one `then` instead of an async frame and an
  // await, each a promise more for the journey's promise hooks.
  loadWithRow<R = unknown>(cookie: string, model: AnyModel, dataKey: string): Promise<SessionWithRow<R>> {
    if (!SESSION_KEY_RE.test(cookie)) return Promise.resolve({ record: null, row: null })
    if (!DATA_KEY_RE.test(dataKey)) return Promise.reject(new TypeError(`loadWithRow: dataKey must be an identifier, got ${JSON.stringify(dataKey)}`))
    let ex: Executor
    let j: JoinedSelect
    let rows: Promise<unknown[][]>
    try {
      ex = currentExecutor()
      j = joinedSelect(ex, model, dataKey)
      rows = ex.query({ sql: j.sql, params: [cookie] }, true)
    } catch (e) {
      return Promise.reject(e)
    }
    return rows.then(([arr]): SessionWithRow<R> => {
      if (!arr) return { record: null, row: null }
      const expire = ex.dialect.fromDb(SessionModel.meta.field('expireDate')!, arr[1])
      if (!unexpired(expire)) return { record: null, row: null }
      const record = decodeRecord(String(arr[0]))
      const cells = arr.slice(2, 2 + j.width)
      const row = record && cells[j.pkIndex] != null ? (readRows(model.meta, EMPTY, ex, [cells], [], [])[0] as R) : null
      return { record, row }
    })
  }

  async save(cookie: string | undefined, record: SessionRecord): Promise<string> {
    const data = encodeRecord(record)
    const expireDate = new Date(record.expiresAt)
    if (cookie !== undefined && SESSION_KEY_RE.test(cookie)) {
      const n = await SessionModel.objects.filter({ sessionKey: cookie }).update({ sessionData: data, expireDate })
      if (n > 0) return cookie
    }
    // A new key each time one is created: the client never chooses it (no fixation).
    const key = newSessionKey()
    await SessionModel.objects.create({ sessionKey: key, sessionData: data, expireDate })
    return key
  }

  async delete(cookie: string): Promise<void> {
    if (SESSION_KEY_RE.test(cookie)) await SessionModel.objects.filter({ sessionKey: cookie }).delete()
  }

  async clearExpired(): Promise<number> {
    const r = await SessionModel.objects.filter({ expireDate__lte: new Date() }).delete()
    return r.deleted
  }
}
