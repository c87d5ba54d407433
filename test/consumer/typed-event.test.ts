import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/typed-pix.ts', import.meta.url))
const CONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url))

// Each program reuses the previous one's unchanged files (the whole of src), which keeps this quick.
let previous: ts.Program | undefined

/** Type-checks the fixture with the project's compiler options, `edit` applied to its text first. */
function typecheck(edit: (source: string) => string): string[] {
  const { config } = ts.readConfigFile(CONFIG, ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(
    config,
    ts.sys,
    fileURLToPath(new URL('../..', import.meta.url)),
  )
  const host = ts.createCompilerHost(options)
  const read = host.readFile.bind(host)
  host.readFile = (file) => (file === FIXTURE ? edit(readFileSync(FIXTURE, 'utf8')) : read(file))
  const program = ts.createProgram([FIXTURE], { ...options, noEmit: true }, host, previous)
  previous = program
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
}

describe('a parsed PIX event, checked by tsc', { timeout: 120_000 }, () => {
  it('type-checks as written', () => {
    expect(typecheck((source) => source)).toEqual([])
  })

  it('fails on a wrong field name', () => {
    const errors = typecheck((source) => source.replace('event.endToEndId', 'event.endToEndID'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^TS2551: Property 'endToEndID' does not exist on type 'PixEvent'/)
  })

  it('fails on a field of another family, and before narrowing by product', () => {
    expect(typecheck((source) => source.replace('event.endToEndId', 'event.utr'))[0]).toMatch(
      /^TS2339: Property 'utr' does not exist on type 'PixEvent'/,
    )
    expect(
      typecheck((source) => source.replace("if (event.product !== 'pix') return 'not a PIX event'", '')),
    ).not.toEqual([])
  })
})
