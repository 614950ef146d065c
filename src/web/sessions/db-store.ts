// Database sessions (the default): one row per session in causeway_session.
import { SessionModel } from './models.ts'
import { DoesNotExist } from '../../db/index.ts'
import { decodeRecord, encodeRecord, newSessionKey, SESSION_KEY_RE, type SessionRecord, type SessionStore } from './store.ts'

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
    if (!(row.expireDate instanceof Date) || !(row.expireDate.getTime() > Date.now())) return null
    return decodeRecord(row.sessionData)
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
