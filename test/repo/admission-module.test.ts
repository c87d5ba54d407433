import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
const ADMISSION_DIR = join(ROOT, 'src/admission')

/** Every `.ts` file under `dir`, as paths. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

/** Numbers an exported value carries: itself, or the numeric fields of an exported object of numbers. */
function knobs(value: unknown): number {
  if (typeof value === 'number') return 1
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 0
  const fields = Object.values(value)
  return fields.length > 0 && fields.every((field) => typeof field === 'number') ? fields.length : 0
}

describe('the admission module', () => {
  it('holds its code in under 300 lines', () => {
    // As `wc -l` counts them: every file ends with a newline.
    const lines = sources(ADMISSION_DIR).reduce(
      (n, file) => n + readFileSync(file, 'utf8').split('\n').length - 1,
      0,
    )
    expect(lines).toBeGreaterThan(0)
    expect(lines).toBeLessThan(300)
  })

  it('has at most 8 tuning knobs: the numbers its modules export', async () => {
    let count = 0
    for (const file of sources(ADMISSION_DIR)) {
      for (const value of Object.values(await import(file))) count += knobs(value)
    }
    expect(count).toBeGreaterThan(0)
    expect(count).toBeLessThanOrEqual(8)
  })
})

describe('no private Node API anywhere in src/', () => {
  // Spelled in pieces so that this file is no hit of its own search.
  const PRIVATE = [
    ['_', 'handle'],
    ['process', '.binding'],
    ['internal', 'Binding'],
  ].map((parts) => parts.join(''))

  it.each(PRIVATE)('no %s', (name) => {
    const hits = sources(join(ROOT, 'src')).filter((file) => readFileSync(file, 'utf8').includes(name))
    expect(hits).toEqual([])
  })
})
