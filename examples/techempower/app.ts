// The TechEmpower Framework Benchmarks' endpoints as an ordinary Causeway app: models, a URL table,
// function views, one middleware and a Nunjucks template. Rules followed (TFB "test types"):
//   /plaintext, /json   — serialised per request;
//   /db                 — one random World row (id 1..10000) as {"id","randomNumber"};
//   /queries?queries=N  — N rows, each its own query; N clamped to 1..500, not an integer → 1;
//   /fortunes           — every Fortune plus id 0 "Additional fortune added at request time.",
//                         sorted by message, rendered through an escaping template, text/html; charset=utf-8;
//   /updates?queries=N  — N random reads, each row given a new random number, then written back
//                         (one UPDATE per row, one transaction);
//   every response carries Server and Date (node:http adds Date).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { createApp, createTemplateEngine, path, text, json, render, type HttpRequest, type HttpResponse, type Middleware } from '../../src/web/index.ts'
import { atomic, setup, closeAll, type Row } from '../../src/db/index.ts'
import { World, Fortune } from './models.ts'
import config from './causeway.config.ts'

const here = dirname(fileURLToPath(import.meta.url))

const randomId = (): number => 1 + Math.floor(Math.random() * 10000)

/** The `queries` parameter: an integer clamped to 1..500; anything else counts as 1. */
export function queryCount(req: HttpRequest): number {
  const raw = req.query.get('queries')
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return 1
  return Math.min(500, Math.max(1, Number(raw)))
}

const plain = (w: Row<typeof World>) => ({ id: w.id, randomNumber: w.randomNumber })

const randomWorld = () => World.objects.get({ id: randomId() })

async function db() {
  return json(plain(await randomWorld()))
}

async function queries(req: HttpRequest) {
  const rows = await Promise.all(Array.from({ length: queryCount(req) }, randomWorld))
  return json(rows.map(plain))
}

const EXTRA = 'Additional fortune added at request time.'
const byMessage = (a: { message: string }, b: { message: string }) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)

async function fortunes(req: HttpRequest) {
  const rows: { id: number; message: string }[] = await Fortune.objects.all()
  rows.push({ id: 0, message: EXTRA })
  rows.sort(byMessage)
  return render(req, 'fortunes.html', { fortunes: rows })
}

async function updates(req: HttpRequest) {
  const rows = await Promise.all(Array.from({ length: queryCount(req) }, randomWorld))
  for (const w of rows) w.randomNumber = randomId()
  // One UPDATE per distinct row (TFB allows individual or batched updates) in one transaction, so
  // the request pays one commit (one WAL flush) instead of N. Rows are written in id order so that
  // concurrent requests take row locks in the same order and never deadlock. A row drawn twice
  // keeps its last value, which is what the response shows for both.
  const latest = new Map<number, Row<typeof World>>()
  for (const w of rows) latest.set(w.id, w)
  for (const w of rows) if (latest.get(w.id) !== w) w.randomNumber = latest.get(w.id)!.randomNumber
  const ordered = [...latest.values()].sort((a, b) => a.id - b.id)
  await atomic(async () => {
    for (const w of ordered) await w.save({ updateFields: ['randomNumber'] })
  })
  return json(rows.map(plain))
}

/** TFB requires a Server header on every response. */
const withServer = (res: HttpResponse): HttpResponse => {
  res.setHeader('server', 'Causeway')
  return res
}
const serverHeader: Middleware = {
  name: 'server-header',
  // A plain handler returning next()'s promise with one `then`: no async frame per request.
  wrap: (next) => (req) => next(req).then(withServer),
}

export default createApp({
  urls: [
    path('plaintext', () => text('Hello, World!'), { methods: ['GET'] }),
    path('json', () => json({ message: 'Hello, World!' }), { methods: ['GET'] }),
    path('db', db, { methods: ['GET'] }),
    path('queries', queries, { methods: ['GET'] }),
    path('fortunes', fortunes, { methods: ['GET'] }),
    path('updates', updates, { methods: ['GET'] }),
  ],
  middleware: [serverHeader],
  // No sessions, users or forms here, so no context processors: a render is only the template.
  templates: createTemplateEngine({ dirs: [join(here, 'templates')], contextProcessors: [] }),
  root: here,
  settings: {
    ALLOWED_HOSTS: ['*'],
    APPEND_SLASH: false,
    // Nothing here signs data; a per-process key satisfies the production check without a secret in git.
    SECRET_KEY: process.env.SECRET_KEY || randomBytes(32).toString('hex'),
  },
  // One connection (a pg pool, or a SQLite handle) per worker process, opened before it takes traffic.
  onReady: () => { setup(config.db, here) },
  onClose: () => closeAll(),
})
