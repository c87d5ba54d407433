import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/cli/commands.js'
import { SECRETS } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'

const env = { TYLT_SECRET_CPG: SECRETS.cpg }
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

describe('tylt-relay --version and --help', () => {
  it('--version prints the version of package.json, and nothing else', async () => {
    expect(await runCli(['--version'], {})).toEqual({
      code: 0,
      stdout: `tylt-relay ${pkg.version}\n`,
      stderr: '',
    })
    expect((await runCli(['-V'], {})).stdout).toBe(`tylt-relay ${pkg.version}\n`)
  })

  it('version and -v say the same; help and help COMMAND print what --help does', async () => {
    for (const args of [['version'], ['-v']])
      expect(await runCli(args, {})).toEqual({ code: 0, stdout: `tylt-relay ${pkg.version}\n`, stderr: '' })
    expect(await runCli(['help'], {})).toEqual(await runCli(['--help'], {}))
    expect(await runCli(['help', 'events'], {})).toEqual(await runCli(['events', '--help'], {}))
  })

  it('--help prints the overview: one line per command and where the usage is', async () => {
    const { code, stdout, stderr } = await runCli(['--help'], {})
    expect([code, stderr]).toEqual([0, ''])
    expect(stdout).toContain('usage: tylt-relay COMMAND [OPTIONS]\n')
    const width = Math.max(...COMMANDS.map((c) => c.name.length))
    expect(stdout).toContain(
      `  ${'send'.padEnd(width)}  sign and POST a body to a relay, as Tylt would, and print the answer\n`,
    )
    expect(stdout).toContain(
      'run "tylt-relay COMMAND --help" (or "tylt-relay help COMMAND") for a command\'s usage;\n' +
        '"tylt-relay --version" (or -v, or version) for the version.\n',
    )
    for (const command of COMMANDS)
      expect(stdout).toContain(`  ${command.name.padEnd(width)}  ${command.summary}\n`)
    // The overview is not every command's usage glued together.
    expect(stdout).not.toContain('--sample')
  })

  it.each(COMMANDS.map((c) => [c.name]))('%s --help prints that command’s usage only', async (name) => {
    const { code, stdout, stderr } = await runCli([name, '--help'], {})
    expect([code, stderr]).toEqual([0, ''])
    expect(stdout.startsWith(`usage: ${COMMANDS.find((c) => c.name === name)!.usage.split('\n')[0]}\n`)).toBe(
      true,
    )
    for (const other of COMMANDS.filter((c) => c.name !== name && c.name !== 'serve'))
      expect(stdout).not.toContain(`tylt-relay ${other.name} `)
  })

  it('prints the exact usage of send', async () => {
    expect((await runCli(['send', '-h'], {})).stdout).toBe(
      `usage: tylt-relay send URL [FILE|-] [--service NAME] [--sample cpg|upi] [--timeout DURATION]
         URL               the relay's webhook URL, e.g. http://127.0.0.1:3000/webhooks/cpg
         FILE|-            the body to send (- reads stdin); a fresh built-in sample when absent
         --service NAME    the service whose current secret signs; from URL's /webhooks/NAME when absent
         --sample cpg|upi  which built-in sample to send (cpg by default)
         --timeout D       how long to wait for the answer (30s by default)
       prints the answer, e.g. "200 ok (accepted)" or "200 ok (duplicate: already received)"; exits 1 unless 2xx
`,
    )
  })
})

describe('usage errors: one line and a hint, exit 2', () => {
  it.each([
    [['nope'], 'unknown command "nope"', 'run "tylt-relay --help" for the commands'],
    [
      ['evnets', 'list'],
      'unknown command "evnets"; did you mean "events"?',
      'run "tylt-relay --help" for the commands',
    ],
    [['sing'], 'unknown command "sing"; did you mean "sign"?', 'run "tylt-relay --help" for the commands'],
    [
      ['help', 'quarantin'],
      'unknown command "quarantin"; did you mean "quarantine"?',
      'run "tylt-relay --help" for the commands',
    ],
    [
      ['verison'],
      'unknown command "verison"; did you mean "version"?',
      'run "tylt-relay --help" for the commands',
    ],
    [
      ['sign', '--service', 'cpg', '--secret', 'abc'],
      'unknown option --secret',
      'run "tylt-relay sign --help" for its usage',
    ],
    [['sign', '--service'], '--service needs a value', 'run "tylt-relay sign --help" for its usage'],
    [['sign'], '--service NAME is required', 'run "tylt-relay sign --help" for its usage'],
    [
      ['events', 'list', '--json=yes'],
      '--json takes no value',
      'run "tylt-relay events --help" for its usage',
    ],
    [['events'], 'events needs list, show, replay or tail', 'run "tylt-relay events --help" for its usage'],
    [
      ['events', 'list', '--state', 'lost'],
      '--state must be one of pending, delivered, dead, stored',
      'run "tylt-relay events --help" for its usage',
    ],
    [
      ['events', 'list', '--since', 'yesterday'],
      '--since must be an ISO time (2026-12-01T08:00:00Z) or a duration (2h), not "yesterday"',
      'run "tylt-relay events --help" for its usage',
    ],
    [
      ['send'],
      'send needs the relay URL, e.g. http://127.0.0.1:3000/webhooks/NAME',
      'run "tylt-relay send --help" for its usage',
    ],
    [
      ['send', 'http://127.0.0.1:9/hooks'],
      '--service NAME is needed: /hooks does not end in /webhooks/NAME',
      'run "tylt-relay send --help" for its usage',
    ],
    [
      ['send', 'http://127.0.0.1:9/webhooks/other'],
      'unknown service "other"; configured: cpg',
      'run "tylt-relay send --help" for its usage',
    ],
  ])('%j', async (args, message, hint) => {
    const result = await runCli(args, env, 'x')
    expect(result).toEqual({ code: 2, stdout: '', stderr: `tylt-relay: ${message}\n${hint}\n` })
  })
})
