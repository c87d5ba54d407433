import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

describe('metrics on prom-client', () => {
  it('is a runtime dependency, and no registry of our own remains beside it', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> }
    expect(Object.keys(pkg.dependencies)).toContain('prom-client')
    expect(existsSync(join(ROOT, 'src/ops/prometheus.ts'))).toBe(false)
  })
})

describe('docs/design.md', () => {
  const design = read('docs/design.md')
  const section = (title: string) => design.split(`\n## ${title}\n`)[1]?.split('\n## ')[0] ?? ''

  it('draws the layers and the path of one callback', () => {
    expect(section('Layers')).toMatch(/src\//)
    expect(section('The path of one callback')).toMatch(/admission/)
  })

  it('names the three admission concepts', () => {
    const admission = section('Admission')
    for (const concept of ['Source budget', 'Pressure', 'A per-source connection limit at the edge'])
      expect(admission).toContain(`**${concept}**`)
  })
})
