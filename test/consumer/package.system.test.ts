import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/index.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

const CONSUMER_JS = `import { parseTyltEvent, verifyDelivery, idempotencyKey } from 'tylt-relay/consumer'
const event = parseTyltEvent('{"type":"pay-in","data":{"instanceId":"i-1","merchantOrderId":"PIX-1","trade":{"fiatCurrency":"BRL","event":{"id":4}},"transaction":{"status":"Completed"}}}', { 'tylt-service': 'shop' })
console.log(JSON.stringify([event.product, event.outcome, idempotencyKey({ ...event, service: 'shop' }), verifyDelivery({}, '', 'whsec_AAAA').ok]))
`
const CONSUMER_TS = `import { parseTyltEvent, type PixEvent } from 'tylt-relay/consumer'
const event = parseTyltEvent('{}')
export const pix: PixEvent | undefined = event.product === 'pix' ? event : undefined
export const id: string | null | undefined = pix?.endToEndId
`

describe('the packed tylt-relay', () => {
  it('ships tylt-relay/consumer with its declarations, and a fresh project with nothing else installed imports it', async () => {
    const dir = tempDir('tylt-relay-pack-')
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT })
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[]
    const files = packed!.files.map((f) => f.path)
    expect(files).toEqual(
      expect.arrayContaining(['dist/consumer/index.js', 'dist/consumer/index.d.ts', 'package.json']),
    )
    expect(files.filter((f) => f.startsWith('dist/consumer/') && f.endsWith('.d.ts')).length).toBeGreaterThan(
      5,
    )

    // The project's only package is the unpacked tarball: an import of any other package would fail.
    const project = join(dir, 'shop')
    const installed = join(project, 'node_modules', 'tylt-relay')
    mkdirSync(installed, { recursive: true })
    await run('tar', ['-xzf', join(dir, packed!.filename), '-C', installed, '--strip-components=1'])
    writeFileSync(join(project, 'package.json'), '{"name":"shop","type":"module","private":true}')
    writeFileSync(join(project, 'consume.js'), CONSUMER_JS)
    const { stdout: printed } = await run(process.execPath, ['consume.js'], { cwd: project })
    expect(JSON.parse(printed)).toEqual(['pix', 'success', 'shop:PIX-1:4', false])

    // Its types resolve through the package's exports, under the strictest options a consumer may use.
    writeFileSync(join(project, 'consume.ts'), CONSUMER_TS)
    const options = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext']
    await run(
      process.execPath,
      [TSC, ...options, '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'consume.ts'],
      {
        cwd: project,
      },
    )
    const wrong = CONSUMER_TS.replace('pix?.endToEndId', 'pix?.endToEndID')
    writeFileSync(join(project, 'consume.ts'), wrong)
    await expect(
      run(
        process.execPath,
        [
          TSC,
          ...options,
          '--types',
          'node',
          '--typeRoots',
          join(ROOT, 'node_modules', '@types'),
          'consume.ts',
        ],
        {
          cwd: project,
        },
      ),
    ).rejects.toMatchObject({ stdout: expect.stringContaining("Property 'endToEndID' does not exist") })
  }, 240_000)
})
