import { describe, expect, it } from 'vitest'
import { whileOpening } from '../../src/store/while-opening.js'

interface Thing {
  read(id: string): Promise<string>
  close(): Promise<void>
}

function thing(log: string[]): Thing {
  return {
    read: async (id) => `value of ${id}`,
    close: async () => void log.push('closed'),
  }
}

describe('whileOpening', () => {
  it('refuses every call with a 503 error until the store opens, then passes calls through', async () => {
    const log: string[] = []
    let open: (t: Thing) => void = () => {}
    const store = whileOpening(
      new Promise<Thing>((resolve) => (open = resolve)),
      () => log.push('gave up'),
      'db away',
    )
    await expect(store.read('a')).rejects.toMatchObject({ code: 'TYLT_STORE_UNAVAILABLE', statusCode: 503 })
    // Not a promise itself: awaiting it does not wait for the opening.
    expect(await store).toBe(store)
    open(thing(log))
    await Promise.resolve()
    expect(await store.read('a')).toBe('value of a')
    await store.close()
    expect(log).toEqual(['closed'])
  })

  it('closed before it opens: gives the opening up, and closes what the opening still brings', async () => {
    const log: string[] = []
    let open: (t: Thing) => void = () => {}
    const store = whileOpening(
      new Promise<Thing>((resolve) => (open = resolve)),
      () => {
        log.push('gave up')
        open(thing(log))
      },
      'db away',
    )
    await store.close()
    expect(log).toEqual(['gave up', 'closed'])
  })

  it('an opening that fails: calls stay refused, close resolves', async () => {
    const store = whileOpening<Thing>(Promise.reject(new Error('schema too new')), () => {}, 'db away')
    await expect(store.read('a')).rejects.toMatchObject({ code: 'TYLT_STORE_UNAVAILABLE' })
    await expect(store.close()).resolves.toBeUndefined()
  })
})
