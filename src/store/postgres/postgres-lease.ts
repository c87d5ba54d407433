import pg from 'pg'
import type { Logger } from 'pino'
import type { StoreUrl } from '../../config/store-url.js'
import type { ForwardingLease } from '../../core/forwarding-lease.js'
import { clientConfig } from './create-pool.js'
import { LOCK, lockKey, WAKE_CHANNEL } from './schema.js'

/**
 * How often a replica without the lease tries to take it, and how often the holder proves its session is
 * alive. A holder that dies loses its session, and PostgreSQL releases the lock with it: another replica
 * forwards within about this long.
 */
export const LEASE_CHECK_MS = 1_000

/**
 * Set on the lease's own session, so that PostgreSQL ends the session of a holder that stopped talking and
 * releases the lock with it, whatever the server's defaults (its keep-alives alone take over two hours):
 * keep-alives and a send timeout find a peer that lost power or network within about half a minute, and the
 * idle bound ends the session of a holder that is frozen (SIGSTOP, `docker pause`), whose kernel still
 * answers keep-alives. A live holder runs a statement every LEASE_CHECK_MS, so it is never idle that long.
 * Any role may set these; a server that lacks one (idle_session_timeout is PostgreSQL 14+) keeps the others.
 */
export const LEASE_SESSION_SETTINGS = {
  tcp_keepalives_idle: '10',
  tcp_keepalives_interval: '5',
  tcp_keepalives_count: '3',
  tcp_user_timeout: '25000',
  idle_session_timeout: '20s',
} as const

/** A lease holder silent for this long is reported by every other replica (log line and metric). */
export const HOLDER_SILENT_WARN_MS = 10_000

/** The session holding the forwarding lock, as pg_locks and pg_stat_activity show it. */
interface Holder {
  readonly pid: number
  readonly name: string | null
  readonly address: string | null
  /** Null when pg_stat_activity hides it (another role, without pg_read_all_stats). */
  readonly silentMs: number | null
}

const HOLDER_QUERY = `SELECT l.pid, a.application_name AS "name", host(a.client_addr) AS "address",
    (extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::float8 AS "silentMs"
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = ${LOCK.forward}::oid AND l.objid = hashtext(current_schema())::oid`

/**
 * The forwarding lease on PostgreSQL: a session-level advisory lock held by a dedicated connection, which
 * also LISTENs for the wake-ups of appends and replays. When that connection fails the lease is given up
 * at once (the forwarder then reads nothing), the connection is replaced and the lock taken again when free.
 * A replica without the lease watches the holder's session and reports one that has gone silent.
 */
export class PostgresLease implements ForwardingLease {
  readonly #url: StoreUrl
  readonly #logger: Logger
  readonly #listeners: (() => void)[] = []
  #client: pg.Client | undefined
  #held = false
  #holderSilentMs = 0
  #reported: { readonly pid: number; readonly at: number } | undefined
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

  get holderSilentMs(): number {
    return this.#holderSilentMs
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
        this.#watched(undefined)
        this.#logger.info('forwarding lease acquired: this replica forwards')
        this.#wake()
        return
      }
      const { rows: holders } = await client.query<Holder>(HOLDER_QUERY)
      this.#watched(holders[0])
    } catch (err) {
      this.#lose(err as Error)
    }
  }

  /** Records what this replica sees of the holder, and says so once it has been silent too long. */
  #watched(holder: Holder | undefined): void {
    this.#holderSilentMs = Math.max(0, holder?.silentMs ?? 0)
    if (holder !== undefined && this.#holderSilentMs >= HOLDER_SILENT_WARN_MS) {
      // Once per holder, then every minute while it lasts.
      const now = performance.now()
      if (this.#reported?.pid === holder.pid && now - this.#reported.at < 60_000) return
      this.#reported = { pid: holder.pid, at: now }
      this.#logger.warn(
        {
          holderPid: holder.pid,
          holderApplication: holder.name,
          holderAddress: holder.address,
          silentSeconds: Math.round(this.#holderSilentMs / 1000),
        },
        'forwarding lease held by a session that has been silent: no replica forwards until it ends (pg_terminate_backend(holderPid) ends it)',
      )
    } else if (this.#reported !== undefined && this.#holderSilentMs < HOLDER_SILENT_WARN_MS) {
      this.#reported = undefined
      this.#logger.info('forwarding lease holder silent no more')
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
    for (const [name, value] of Object.entries(LEASE_SESSION_SETTINGS)) {
      await client.query('SELECT set_config($1, $2, false)', [name, value]).catch((err: Error) => {
        this.#logger.warn({ err, setting: name }, 'forwarding lease: setting not available on this server')
      })
    }
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
