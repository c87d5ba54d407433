// The durable limit: the least a Node receiver does to be durable before its `200` and to deduplicate, and
// nothing more. Bare node:http; the HMAC-SHA256 of the raw body compared in constant time; then the event,
// (id, body) with the id a digest of the body, goes into SQLite (WAL, synchronous=NORMAL) with
// INSERT ... ON CONFLICT (id) DO NOTHING, every callback of one turn of the event loop in one transaction;
// the `-wal` file is fdatasync'd on libuv's pool, two syncs in flight at most; then `ok`.
// It shares no code with tylt-relay: `npm run bench` measures the relay against it in the same run.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { fdatasync, openSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import Database from 'better-sqlite3'

const secret = process.env.BENCH_SECRET ?? ''
const port = Number(process.env.PORT ?? 3000)
const file = join(process.env.DATA_DIR ?? '.', 'limit.sqlite')

const db = new Database(file)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
db.exec('CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID')
const insert = db.prepare('INSERT INTO events (id, body) VALUES (?, ?) ON CONFLICT (id) DO NOTHING')
const insertAll = db.transaction((batch) => {
  for (const event of batch) insert.run(event.id, event.body)
})
// The table's creation was a write: the -wal file exists from here on.
const wal = openSync(`${file}-wal`, 'r')

let queue = []
let scheduled = false
let syncing = 0

function commit() {
  scheduled = false
  if (queue.length === 0 || syncing >= 2) return
  const batch = queue
  queue = []
  insertAll(batch)
  syncing++
  fdatasync(wal, (err) => {
    syncing--
    for (const { response } of batch) {
      response.writeHead(err ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' })
      response.end(err ? 'unavailable' : 'ok')
    }
    schedule()
  })
}

function schedule() {
  if (scheduled || queue.length === 0 || syncing >= 2) return
  scheduled = true
  setImmediate(commit)
}

const server = createServer((request, response) => {
  if (request.method !== 'POST') return response.end('durable limit')
  const chunks = []
  request.on('data', (chunk) => chunks.push(chunk))
  request.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
    const header = request.headers['x-tlp-signature']
    const expected = typeof header === 'string' ? Buffer.from(header.trim(), 'hex') : Buffer.alloc(0)
    const digest = createHmac('sha256', secret).update(body).digest()
    if (expected.length !== digest.length || !timingSafeEqual(digest, expected)) {
      response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' })
      return response.end('invalid signature')
    }
    const id = createHash('sha256').update(body).digest('hex')
    queue.push({ id, body, response })
    schedule()
  })
})
server.listen(port, '127.0.0.1', () => process.stdout.write(`durable limit listening on ${port}\n`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
