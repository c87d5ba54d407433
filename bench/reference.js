// Reference servers: a webhook receiver built from the relay's parts and doing nothing else. They bound what
// the relay can reach on the machine the bench runs on (docs/benchmarks.md: "What is measured", "Reference servers: how far the
// relay's parts can go on this machine"):
//   REFERENCE=fastify  Fastify 5 with a raw-body parser: verify the HMAC, answer `ok`. No store, log or metrics.
//   REFERENCE=journal  the same, answering only once the body is appended to a file and that file is
//                      fdatasync'd: one write per turn of the event loop, its sync on libuv's pool, two syncs
//                      in flight, as the relay does. The least any receiver that is durable before `200` does.
//   REFERENCE=sqlite   the same with the relay's kind of store in place of the file: SQLite in WAL mode, one
//                      transaction per turn, the event id unique (deduplication), a checkpoint every 500
//                      events, the log synced off the loop as the relay syncs it.
//   REFERENCE=postgres  the same with PostgreSQL (STORE_URL) in place of SQLite: one INSERT of the event with a
//                      unique id per callback, committed (synchronous_commit on) before `ok`; no group commit
//                      of its own beyond what PostgreSQL does for concurrent commits, on 16 connections.
// Nothing here is tylt-relay's code: each variant is the bare minimum of its kind, to be measured beside it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { closeSync, fdatasync, fsyncSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import pg from 'pg'

const secret = process.env.BENCH_SECRET ?? ''
const port = Number(process.env.PORT ?? 3000)
const kind = process.env.REFERENCE ?? 'fastify'
const dataDir = process.env.DATA_DIR ?? '.'
const SYNCS_IN_FLIGHT = 2
const CHECKPOINT_EVERY_EVENTS = 500

function syncFolder() {
  const fd = openSync(dataDir, 'r')
  fsyncSync(fd)
  closeSync(fd)
}

/** Writes a batch of events so that a sync of the returned descriptor makes them durable. */
function journalFile() {
  const fd = openSync(join(dataDir, 'journal.log'), 'a')
  syncFolder()
  return {
    fd,
    write(batch) {
      const parts = []
      for (const e of batch)
        parts.push(Buffer.from(`${e.id} ${e.at} ${e.signature} ${e.body.length}\n`), e.body)
      writeSync(fd, Buffer.concat(parts))
    },
  }
}

function sqliteStore() {
  const file = join(dataDir, 'reference.sqlite')
  const db = new Database(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000')
  db.exec(`CREATE TABLE events (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, service TEXT NOT NULL, accepted_at INTEGER NOT NULL,
      signature TEXT NOT NULL, body BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'pending');
    CREATE INDEX events_pending ON events (seq) WHERE state = 'pending';`)
  const insert = db.prepare(
    'INSERT INTO events (id, service, accepted_at, signature, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
  )
  const transaction = db.transaction((batch) => {
    for (const e of batch) insert.run(e.id, 'bench', e.at, e.signature, e.body)
  })
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  let sinceCheckpoint = 0
  // CREATE TABLE was the first write: the log file exists now.
  const fd = openSync(`${file}-wal`, 'r')
  syncFolder()
  return {
    fd,
    write(batch) {
      transaction(batch)
      sinceCheckpoint += batch.length
      if (sinceCheckpoint >= CHECKPOINT_EVERY_EVENTS) {
        sinceCheckpoint = 0
        checkpoint.all()
      }
    },
  }
}

async function postgresStore() {
  const pool = new pg.Pool({ connectionString: process.env.STORE_URL, max: 16 })
  await pool.query(`CREATE TABLE events (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE, service text NOT NULL,
      accepted_at bigint NOT NULL, signature text NOT NULL, body bytea NOT NULL, state text NOT NULL DEFAULT 'pending');
    CREATE INDEX events_pending ON events (seq) WHERE state = 'pending';`)
  const insert = `INSERT INTO events (id, service, accepted_at, signature, body) VALUES ($1, 'bench', $2, $3, $4)
    ON CONFLICT (id) DO NOTHING`
  return (e) => pool.query({ name: 'insert', text: insert, values: [e.id, e.at, e.signature, e.body] })
}

const insertOne = kind === 'postgres' ? await postgresStore() : undefined
const store = kind === 'journal' ? journalFile() : kind === 'sqlite' ? sqliteStore() : undefined
let queue = []
let scheduled = false
let syncing = 0

function schedule() {
  if (scheduled || queue.length === 0 || syncing >= SYNCS_IN_FLIGHT) return
  scheduled = true
  setImmediate(commit)
}

function commit() {
  scheduled = false
  if (queue.length === 0 || syncing >= SYNCS_IN_FLIGHT) return
  const batch = queue
  queue = []
  store.write(batch)
  syncing++
  fdatasync(store.fd, (err) => {
    syncing--
    for (const e of batch) {
      if (err) e.reply.code(503).send('unavailable')
      else e.reply.send('ok')
    }
    schedule()
  })
}

const app = Fastify({ logger: false })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
app.post('/webhooks/:service', (request, reply) => {
  const body = request.body
  const header = request.headers['x-tlp-signature']
  const expected = typeof header === 'string' ? Buffer.from(header.trim(), 'hex') : Buffer.alloc(0)
  const digest = createHmac('sha256', secret).update(body).digest()
  if (expected.length !== digest.length || !timingSafeEqual(digest, expected)) {
    return reply.code(401).send('invalid signature')
  }
  reply.type('text/plain; charset=utf-8')
  if (store === undefined && insertOne === undefined) return reply.send('ok')
  const id = `evt_${createHash('sha256').update('bench\n').update(body).digest('hex').slice(0, 32)}`
  if (insertOne !== undefined) {
    return insertOne({ id, at: Date.now(), signature: header.trim(), body }).then(
      () => reply.send('ok'),
      () => reply.code(503).send('unavailable'),
    )
  }
  queue.push({ id, at: Date.now(), signature: header.trim(), body, reply })
  schedule()
  return reply
})
app.get('/', () => 'reference')

await app.listen({ port, host: '127.0.0.1' })
process.stdout.write(`reference ${kind} listening on ${port}\n`)
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
