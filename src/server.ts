import type { Logger } from 'pino'
import type { Config } from './config/load-config.js'
import { SHUTDOWN_TAIL_MS } from './constants.js'
import { createRelay, type Relay } from './relay.js'

/**
 * npm forwards a terminal's SIGINT to its child while the terminal sends it to the whole process group too:
 * the relay receives one Ctrl-C twice, a few milliseconds apart. Within this window a repeat is that echo.
 */
const SIGNAL_ECHO_MS = 100

/** A relay that cannot start has closed everything within this; past it the process exits regardless. */
const FAILED_START_EXIT_MS = 2_000

/**
 * The process: build the relay, listen, and on SIGTERM or SIGINT stop with SHUTDOWN_GRACE and exit 0
 * (docs/operations.md, "Stopping"); SIGHUP reloads the secrets. A relay that cannot start (a busy PORT, a
 * DATA_DIR in use) throws after closing whatever it had opened, so the command line says why and exits 1.
 */
export async function serve(config: Config, logger: Logger): Promise<void> {
  let relay: Relay
  try {
    relay = await createRelay(config, logger, { onFatal: () => exit(logger, 1) })
    await relay.start()
  } catch (err) {
    // The relay closed what it had opened and the command line says why; should a library still hold the
    // loop open (a reconnect timer), the process must not outlive a start that failed.
    setTimeout(() => process.exit(1), FAILED_START_EXIT_MS).unref()
    throw err
  }
  process.on('SIGHUP', () => relay.reloadSecrets())

  let stopping: { signal: string; at: number } | undefined
  const stop = async (signal: string) => {
    if (stopping !== undefined) {
      const echo = signal === stopping.signal && Date.now() - stopping.at < SIGNAL_ECHO_MS
      if (!echo) logger.warn({ signal }, 'already stopping; the stop ends within SHUTDOWN_GRACE')
      return
    }
    stopping = { signal, at: Date.now() }
    const graceMs = config.shutdownGraceMs
    logger.info(
      { signal, graceMs },
      'stopping: no new connections, draining while the downstream takes events',
    )
    // Every step of the stop is bounded; this only catches a bug in one of them.
    setTimeout(
      () => {
        logger.error('shutdown took longer than SHUTDOWN_GRACE; exiting')
        exit(logger, 1)
      },
      graceMs + 2 * SHUTDOWN_TAIL_MS,
    ).unref()
    const { drained, pending } = await relay.stop(graceMs)
    // Every acknowledged event was durable before it was acknowledged: pending ones go out after a restart.
    logger.info({ drained, pending }, `stopped; ${pending ?? 'unknown'} events pending`)
    exit(logger, 0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

/** Exits once the asynchronous log destination has written what it holds. */
function exit(logger: Logger, code: number): void {
  setTimeout(() => process.exit(code), 1_000).unref()
  logger.flush(() => process.exit(code))
}
