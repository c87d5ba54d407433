import { connect } from 'node:net'

/** Longest a start-up readiness check may take, whatever the downstream does. */
export const CHECK_TIMEOUT_MS = 5_000

/**
 * Runs a readiness check that resolves to a warning (or undefined when the downstream looks ready), within
 * `timeoutMs`, never rejecting: a check only informs the start-up log.
 */
export async function boundedCheck(
  what: string,
  run: () => Promise<string | undefined>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${what} did not answer within ${timeoutMs} ms`), timeoutMs)
  })
  try {
    return await Promise.race([
      run().catch((err: unknown) => `${what}: ${err instanceof Error ? err.message : String(err)}`),
      late,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Opens a TCP connection and closes it at once: undefined when something accepts, else why not. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs })
    const done = (reason: string | undefined): void => {
      socket.destroy()
      resolve(reason)
    }
    socket.once('connect', () => done(undefined))
    socket.once('timeout', () => done(`no answer from ${host}:${port} within ${timeoutMs} ms`))
    socket.once('error', (err: NodeJS.ErrnoException) => done(`${err.code ?? err.message} ${host}:${port}`))
  })
}
