import { StoreUnavailableError } from '../errors.js'

/**
 * A store usable before it is open (a database not up yet when the relay starts): until `opening` resolves,
 * every call is refused with StoreUnavailableError, which the webhook answers 503 with Retry-After and
 * readiness reports; then every call goes to the opened store. `close` before then gives up the opening.
 */
export function whileOpening<T extends { close(): Promise<void> }>(
  opening: Promise<T>,
  giveUp: () => void,
  why: string,
): T {
  let opened: T | undefined
  void opening.then(
    (store) => {
      opened = store
    },
    () => undefined,
  )
  const close = async () => {
    if (opened === undefined) giveUp()
    await (await opening.catch(() => undefined))?.close()
  }
  return new Proxy({} as T, {
    get(_target, name) {
      if (name === 'close') return close
      // Not a promise itself: `await store` must not wait for the opening.
      if (name === 'then') return undefined
      return (...args: unknown[]) => {
        if (opened === undefined) return Promise.reject(new StoreUnavailableError(why))
        const method = opened[name as keyof T] as (...a: unknown[]) => unknown
        return method.apply(opened, args)
      }
    },
  })
}
