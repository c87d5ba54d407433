import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')

/** Every file under `path`, or `path` itself when it is a file. */
function files(path: string): string[] {
  if (!existsSync(path)) return []
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

describe('the docs show TRUST_PROXY as a hop count or a CIDR list only', () => {
  it('nothing sets or suggests TRUST_PROXY=true', () => {
    const hits = ['README.md', '.env.example', 'docs', 'docker']
      .flatMap((name) => files(join(ROOT, name)))
      .filter((file) =>
        /TRUST_PROXY["']?\s*[=:]\s*["']?true\b|TRUST_PROXY\s*\n\s*value:\s*["']?true/i.test(
          readFileSync(file, 'utf8'),
        ),
      )
    expect(hits).toEqual([])
  })
})
