import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventually, SECRETS, tempDir } from '../helpers/index.js'
import { CLI, RELAY_NODE_FLAGS, startRelay } from '../helpers/relay-process.js'
import { testSchema } from '../postgres/postgres-helper.js'

/**
 * Preloaded into the relay: every half second, writes the packages its CommonJS
 * loader holds (every client library here is CommonJS) to the file named by LOADED_PACKAGES_FILE.
 */
const REPORTER = `
const { writeFileSync } = require('node:fs')
const report = () => {
  const names = new Set()
  for (const file of Object.keys(require.cache)) {
    const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file)
    if (match) names.add(match[1])
  }
  writeFileSync(process.env.LOADED_PACKAGES_FILE, JSON.stringify([...names].sort()))
}
setInterval(report, 500).unref()
`

/** The packages a serving relay has loaded once it is ready, with `env` added to its configuration. */
async function loadedPackages(env: Record<string, string>): Promise<string[]> {
  const dir = tempDir('tylt-relay-modules-')
  const reporter = join(dir, 'report-packages.cjs')
  const file = join(dir, 'packages.json')
  writeFileSync(reporter, REPORTER)
  const relay = await startRelay(
    { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: join(dir, 'data'), LOADED_PACKAGES_FILE: file, ...env },
    { command: [process.execPath, '--require', reporter, ...RELAY_NODE_FLAGS, CLI, 'serve'] },
  )
  // Ready: every sink and store was opened before the listeners started. What the next report says counts.
  rmSync(file, { force: true })
  const read = async () => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as string[]
    } catch {
      return []
    }
  }
  const packages = await eventually(read, (names) => names.includes('fastify'), 10_000)
  await relay.stop()
  return packages
}

const CLIENTS = ['ioredis', 'amqplib', '@nats-io/transport-node', 'pg', 'ajv']

describe('what a serving relay loads', () => {
  it('on the embedded store without a downstream: no broker or database client, no schema compiler', async () => {
    const packages = await loadedPackages({})
    expect(packages).toContain('better-sqlite3')
    for (const client of CLIENTS) expect(packages).not.toContain(client)
  })

  it('forwarding to Redis: ioredis, and none of the other clients', async () => {
    const packages = await loadedPackages({ FORWARD_URL: 'redis://127.0.0.1:6379?stream=tylt-modules' })
    expect(packages).toContain('ioredis')
    for (const client of CLIENTS.filter((c) => c !== 'ioredis')) expect(packages).not.toContain(client)
  })

  it('forwarding to NATS and keeping events in PostgreSQL: their clients, not ioredis or amqplib', async () => {
    const { url } = await testSchema()
    const packages = await loadedPackages({
      FORWARD_URL: 'nats://127.0.0.1:4222?stream=TYLT_MODULES&subject=tylt.modules',
      STORE_URL: url,
    })
    expect(packages).toEqual(expect.arrayContaining(['@nats-io/transport-node', 'pg']))
    for (const client of ['ioredis', 'amqplib', 'ajv']) expect(packages).not.toContain(client)
  })
})
