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

/** `TRUST_PROXY=true` or `TRUST_PROXY: "true"` (Compose), or a Kubernetes `value: "true"` under it. */
const SETS_TRUE =
  /TRUST_PROXY["']?\s*[=:]\s*["']?true\b(?!` is refused)|TRUST_PROXY\s*\n\s*value:\s*["']?true/gi

describe('the docs show TRUST_PROXY as a hop count or a CIDR list only', () => {
  it('nothing sets or suggests TRUST_PROXY=true; where it is named, it is as refused', () => {
    const hits = ['README.md', '.env.example', 'docs', 'docker']
      .flatMap((name) => files(join(ROOT, name)))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(SETS_TRUE)].map((m) => `${file}: ${m[0]}`))
    expect(hits).toEqual([])
  })

  it('would find one', () => {
    expect('TRUST_PROXY=true\n'.match(SETS_TRUE)).toHaveLength(1)
    expect('TRUST_PROXY: "true"'.match(SETS_TRUE)).toHaveLength(1)
    expect('- name: TRUST_PROXY\n  value: "true"'.match(SETS_TRUE)).toHaveLength(1)
    expect('`TRUST_PROXY=true` is refused at start'.match(SETS_TRUE)).toBeNull()
  })
})
