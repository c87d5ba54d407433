import { createServer } from 'node:net'

/*
 * Ports for the relays, consumers and private services the tests start. They come from below the kernel's
 * ephemeral range (32768 and up), so an outgoing connection of another test can never take one between the
 * check here and the listen of the process it is handed to; and each vitest worker slot has its own slice,
 * so two files running at once never hand out the same port. A port is checked free before it is handed out.
 */
const FIRST = 20_000
const SLICE = 600
const SLOTS = 20

const slot = (Number(process.env.VITEST_POOL_ID ?? 1) - 1) % SLOTS
// Files that follow one another in the same slot start at different places in its slice.
let next = (Number(process.env.VITEST_WORKER_ID ?? 0) * 97) % SLICE

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A loopback port nobody listens on, and no other call in this run hands out. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < SLICE; tries++) {
    const port = FIRST + slot * SLICE + (next++ % SLICE)
    if (await canListen(port)) return port
  }
  throw new Error(`no free port left in ${FIRST + slot * SLICE}..${FIRST + (slot + 1) * SLICE - 1}`)
}
