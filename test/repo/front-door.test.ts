import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/index.js'
import { inheritedEnv } from '../helpers/relay-process.js'

const ROOT = join(import.meta.dirname, '../..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const README_MAX_LINES = 150

/** The lines of a Markdown text that are not inside a fenced code block (a `#` there is a shell comment). */
function proseLines(text: string): string[] {
  let fenced = false
  return text.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced
      return false
    }
    return !fenced
  })
}

/** The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const found = new Set<string>()
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1]
    if (heading === undefined) continue
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    found.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return found
}

/**
 * The relative links of `file` (a path from `root`) that point at no file, or at no heading of the Markdown
 * file they name. Links to other sites are not followed.
 */
function brokenLinks(root: string, file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8')
  const broken: string[] = []
  for (const line of proseLines(text)) {
    for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z+.-]*:/i.test(target!)) continue
      const [path, anchor] = target!.split('#') as [string, string | undefined]
      const linked = path === '' ? file : normalize(join(dirname(file), path))
      if (!existsSync(join(root, linked))) broken.push(`${file}: ${target} (no file ${linked})`)
      else if (anchor !== undefined && linked.endsWith('.md')) {
        if (!anchors(readFileSync(join(root, linked), 'utf8')).has(anchor))
          broken.push(`${file}: ${target} (no heading #${anchor} in ${linked})`)
      }
    }
  }
  return broken
}

/** The Markdown files a newcomer reads: the README and everything in docs/. */
const frontDoorFiles = (root: string) => [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
]

/** The rows of the README's troubleshooting table, as [what you see, what to do]. */
function troubleshootingRows(): [string, string][] {
  const section = README.split(/^## /m).find((part) => part.startsWith('Troubleshooting\n')) ?? ''
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-\s|]+\|$/.test(line))
    .slice(1)
    .map((line) => {
      const [seen, ...meaning] = line.slice(1, -1).split(' | ')
      return [seen!.trim(), meaning.join(' | ').trim()]
    })
}

/** Tracked files that .gitignore (or git's other exclude files) would keep out of the repository. */
const trackedButIgnored = (dir: string) =>
  execFileSync('git', ['ls-files', '-ci', '--exclude-standard'], {
    cwd: dir,
    env: inheritedEnv(),
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '')

describe('the front door', () => {
  it(`the README is at most ${README_MAX_LINES} lines`, () => {
    expect(README.trimEnd().split('\n').length).toBeLessThanOrEqual(README_MAX_LINES)
  })

  it('the troubleshooting table has a row for 401, 404, dead letters and 503, each saying what to do', () => {
    const rows = troubleshootingRows()
    const row = (pattern: RegExp) => rows.find(([seen]) => pattern.test(seen))?.[1]
    expect(row(/\b401\b/)).toMatch(/verify .*--signature/)
    expect(row(/\b401\b/)).toMatch(/rotated/)
    expect(row(/\b401\b/)).toMatch(/JSON fallback/)
    expect(row(/\b404\b/)).toMatch(/path/)
    expect(row(/dead letters/)).toContain('events replay --dead')
    expect(row(/\b503\b/)).toMatch(/disk/)
    expect(row(/\b503\b/)).toMatch(/overloaded/)
  })

  it('every relative link of the README and docs/ points at a file that exists, and at a heading in it', () => {
    expect(frontDoorFiles(ROOT).flatMap((file) => brokenLinks(ROOT, file))).toEqual([])
  })

  it('finds a link to a missing file and one to a missing heading (the check can fail)', () => {
    const root = tempDir('tylt-relay-links-')
    mkdirSync(join(root, 'docs'))
    writeFileSync(join(root, 'docs/guide.md'), '# Guide\n\n## 2. Set up\n\n```sh\n# not a heading\n```\n')
    writeFileSync(
      join(root, 'README.md'),
      [
        '[ok](docs/guide.md#2-set-up) [gone](docs/gone.md) [bad](docs/guide.md#not-a-heading)',
        '[site](https://tylt.money) [here](#readme)',
        '# Readme',
      ].join('\n'),
    )
    expect(frontDoorFiles(root).flatMap((file) => brokenLinks(root, file))).toEqual([
      'README.md: docs/gone.md (no file docs/gone.md)',
      'README.md: docs/guide.md#not-a-heading (no heading #not-a-heading in docs/guide.md)',
    ])
  })
})

describe('.gitignore', () => {
  it.skipIf(!existsSync(join(ROOT, '.git')))('lists no tracked file', () => {
    expect(trackedButIgnored(ROOT)).toEqual([])
  })

  it('a tracked file that .gitignore lists is found (the check can fail)', () => {
    const dir = tempDir('tylt-relay-ignored-')
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: inheritedEnv() })
    git('init', '-q')
    writeFileSync(join(dir, '.gitignore'), '.env\n')
    writeFileSync(join(dir, '.env'), 'TYLT_SECRET_DEMO=x\n')
    git('add', '-f', '.env', '.gitignore')
    expect(trackedButIgnored(dir)).toEqual(['.env'])
  })
})
