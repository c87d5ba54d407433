export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Reads until `check` holds, or throws after `timeoutMs` saying what was last read. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!check(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${String(value)}`)
    await sleep(50)
    value = await read()
  }
  return value
}
