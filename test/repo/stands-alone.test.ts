import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { inheritedEnv } from '../helpers/relay-process.js'

const ROOT = join(import.meta.dirname, '../..')

/** Names of documents that are not part of this repository; spelled in pieces so this file is not a hit. */
const OUTSIDE = ['CONTRACT', 'TYLT', 'STYLE', 'MEASUREMENTS'].map((name) => `${name}.md`)
/** Those names, and wording about how the project was made rather than about the product. */
const PATTERNS = [
  ...OUTSIDE.map((name) => new RegExp(name.replace('.', '\\.'), 'i')),
  new RegExp(['CONTRACT', 'section'].join(' '), 'i'),
  new RegExp(['\\.\\.', 'shared', ''].join('/')),
  new RegExp(['design', 'card'].join(' '), 'i'),
  new RegExp(['\\bissues?', '(#?\\d|require)'].join(' '), 'i'),
  new RegExp(
    ['\\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)', 'round\\b'].join(' '),
    'i',
  ),
  new RegExp(['\\brounds? of', 'work\\b'].join(' '), 'i'),
  new RegExp(['\\bthe old', 'behaviou?r\\b'].join(' '), 'i'),
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
    ? execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, env: inheritedEnv(), encoding: 'utf8' }).split(
        '\0',
      )
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

  it.each([
    `see ${OUTSIDE[0]} for the routes`,
    `as ${OUTSIDE[3]} records`,
    ['what the operations issues', 'require'].join(' '),
    ['"Fourth', 'round"'].join(' '),
    ['far less than the old', 'behaviour'].join(' '),
  ])('finds %j (the check can fail)', (line) => {
    expect(PATTERNS.some((pattern) => pattern.test(line))).toBe(true)
  })

  it.each(['an issue with the disk', 'the median of 3 rounds', 'a round trip to Redis'])(
    'lets the product speak: %j is no hit',
    (line) => {
      expect(PATTERNS.some((pattern) => pattern.test(line))).toBe(false)
    },
  )
})
