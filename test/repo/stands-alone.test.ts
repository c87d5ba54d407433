import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')

/** Names of documents that are not part of this repository; spelled in pieces so this file is not a hit. */
const OUTSIDE = ['CONTRACT', 'TYLT', 'STYLE'].map((name) => `${name}.md`)
const PATTERNS = [
  ...OUTSIDE.map((name) => new RegExp(name.replace('.', '\\.'), 'i')),
  new RegExp(['CONTRACT', 'section'].join(' '), 'i'),
  new RegExp(['\\.\\.', 'shared', ''].join('/')),
  new RegExp(['design', 'card'].join(' '), 'i'),
]

function trackedTextFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
  return listed.split('\0').filter((file) => file !== '' && !/\.(png|jpe?g|gif|ico|sqlite)$/.test(file))
}

describe('the repository stands alone', () => {
  it('no tracked file points at documents outside it', () => {
    const hits: string[] = []
    for (const file of trackedTextFiles()) {
      if (file === 'package-lock.json') continue
      const text = readFileSync(join(ROOT, file), 'utf8')
      text.split('\n').forEach((line, index) => {
        if (PATTERNS.some((pattern) => pattern.test(line))) hits.push(`${file}:${index + 1}: ${line.trim()}`)
      })
    }
    expect(hits).toEqual([])
  })

  it('finds such a mention when there is one (the check can fail)', () => {
    const line = `see ${OUTSIDE[0]} for the routes`
    expect(PATTERNS.some((pattern) => pattern.test(line))).toBe(true)
  })
})
