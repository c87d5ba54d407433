import pg from 'pg'
import type { Logger } from 'pino'
import type { StoreUrl } from '../../config/store-url.js'
import type { ForwardingLease } from '../../core/forwarding-lease.js'
import { clientConfig } from './create-pool.js'
import { lockKey, WAKE_CHANNEL } from './schema.js'

/**
 * How often a replica without the lease tries to take it, and how often the holder proves its session is
 * alive. A holder that dies loses its session, and PostgreSQL releases the lock with it: another replica
 * forwards within about this long.
 */
export const LEASE_CHECK_MS = 1_000

/**
 * The forwarding lease on PostgreSQL: a session-level advisory lock held by a dedicated connection, which
 * also LISTENs for the wake-ups of appends and replays. When that connection fails the lease is given up
 * at once (the forwarder then reads nothing), the connection is replaced and the lock taken again when free.
 */
export class PostgresLease implements ForwardingLease {
  readonly #url: StoreUrl
  readonly #logger: Logger
  readonly #listeners: (() => void)[] = []
  #client: pg.Client | undefined
  #held = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #checking: Promise<void> | undefined

  constructor(url: StoreUrl, logger: Logger) {
    this.#url = url
    this.#logger = logger
    this.#timer = setInterval(() => void this.#check(), LEASE_CHECK_MS).unref()
    void this.#check()
  }

  get held(): boolean {
    return this.#held
  }

  onWake(listener: () => void): void {
    this.#listeners.push(listener)
  }

  #wake(): void {
    for (const listener of this.#listeners) listener()
  }

  #check(): Promise<void> {
    this.#checking ??= this.#tryHold().finally(() => {
      this.#checking = undefined
    })
    return this.#checking
  }

  async #tryHold(): Promise<void> {
    if (this.#closed) return
    try {
      const client = this.#client ?? (await this.#connect())
      if (this.#held) {
        await client.query('SELECT 1')
        return
      }
      const { rows } = await client.query<{ held: boolean }>(
        `SELECT pg_try_advisory_lock(${lockKey('forward')}) AS held`,
      )
      if (rows[0]?.held === true && !this.#closed) {
        this.#held = true
        this.#logger.info('forwarding lease acquired: this replica forwards')
        this.#wake()
      }
    } catch (err) {
      this.#lose(err as Error)
    }
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client(clientConfig(this.#url, 'tylt-relay forwarding lease'))
    client.on('error', (err) => {
      if (this.#client === client) this.#lose(err)
    })
    client.on('notification', () => this.#wake())
    this.#client = client
    await client.connect()
    const { rows } = await client.query<{ channel: string }>(`SELECT ${WAKE_CHANNEL} AS channel`)
    // Letters and hex digits only: safe to quote as an identifier.
    await client.query(`LISTEN "${rows[0]!.channel}"`)
    return client
  }

  /** The session is gone or unusable: whatever it held is released with it. */
  #lose(err: Error): void {
    const client = this.#client
    this.#client = undefined
    client?.end().catch(() => {})
    if (this.#held) this.#logger.warn({ err }, 'forwarding lease lost: this replica stops forwarding')
    this.#held = false
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#checking
    this.#held = false
    await this.#client?.end().catch(() => {})
    this.#client = undefined
  }
}
