import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
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

/** Folders that are built or installed, never written by hand: skipped when there is no git to ask. */
const GENERATED = new Set(['.git', 'node_modules', 'dist', 'coverage', 'data'])

/** Every file under `dir`, for a copy of the tree without its git folder (the Node 24 run tests one). */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (GENERATED.has(entry.name)) return []
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return walk(path)
    return entry.isFile() ? [relative(ROOT, path)] : []
  })
}

function trackedTextFiles(): string[] {
  const files = existsSync(join(ROOT, '.git'))
    ? execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0')
    : walk(ROOT)
  return files.filter((file) => file !== '' && !/\.(png|jpe?g|gif|ico|sqlite|tgz)$/.test(file))
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
