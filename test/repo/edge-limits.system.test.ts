import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { tempDir } from '../helpers/index.js'

const operations = readFileSync(join(import.meta.dirname, '../../docs/operations.md'), 'utf8')
const section = operations.split('## 12. Limits at the edge')[1]?.split('\n## ')[0] ?? ''
/** The fenced blocks of the section, in order. */
const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2]! }))

const hasNft = spawnSync('nft', ['--version']).status === 0

describe('the limits at the edge in docs/operations.md', () => {
  it.skipIf(!hasNft)('the nftables ruleset is one nft accepts (checked, not applied)', () => {
    const ruleset = blocks.find((b) => b.text.startsWith('table inet'))
    expect(ruleset).toBeDefined()
    const file = join(tempDir(), 'tylt-relay.nft')
    writeFileSync(file, ruleset!.text)
    // Where nft lacks the privileges, in a user and network namespace of its own.
    const direct = spawnSync('nft', ['-c', '-f', file], { encoding: 'utf8' })
    const result =
      direct.status === 0
        ? direct
        : spawnSync('unshare', ['-rn', 'nft', '-c', '-f', file], { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(ruleset!.text).toContain('ct count over 32')
  })

  it('the ingress-nginx annotations are YAML with the per-client limits', () => {
    const annotations = blocks.find(
      (b) => b.lang === 'yaml' && b.text.includes('nginx.ingress.kubernetes.io'),
    )
    const value = parse(annotations!.text) as { metadata: { annotations: Record<string, string> } }
    expect(value.metadata.annotations).toEqual({
      'nginx.ingress.kubernetes.io/limit-connections': '32',
      'nginx.ingress.kubernetes.io/limit-rps': '50',
      'nginx.ingress.kubernetes.io/limit-burst-multiplier': '4',
    })
  })
})
