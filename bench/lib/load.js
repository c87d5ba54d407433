// Drives load at a server from the load core: wrk (C, with load.lua) when installed, autocannon otherwise.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from './proc.js'

const here = dirname(fileURLToPath(import.meta.url))
export const LOAD_CORE = 1

export const hasWrk = spawnSync('wrk', ['--version']).error === undefined

function parse(output, tool) {
  const line = output.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
  if (line === undefined) throw new Error(`${tool} printed no result:\n${output}`)
  const result = JSON.parse(line.slice('BENCH_RESULT '.length))
  const seconds = result.durationUs / 1e6
  return { ...result, rps: result.requests / seconds, ok: result.requests - result.non2xx }
}

/**
 * One load run of `durationS` seconds against `url` from `connections` connections; `rate` offers a fixed
 * number of requests per second instead of as many as the server answers. `nonce` makes the bodies unique.
 * `histogram` asks wrk for every latency it recorded (`result.histogram`, [µs, count] pairs); autocannon
 * gives none.
 */
export async function load({
  url,
  durationS,
  connections = 32,
  rate = 0,
  secret,
  nonce,
  forceAutocannon,
  histogram = false,
}) {
  if (hasWrk && !forceAutocannon) {
    const env = {
      BENCH_SECRET: secret,
      BENCH_NONCE: nonce,
      BENCH_RATE: String(rate),
      BENCH_HISTOGRAM: histogram ? '1' : '0',
    }
    const args = [
      '-t1',
      `-c${connections}`,
      `-d${Math.max(1, Math.round(durationS))}s`,
      '--timeout',
      '10s',
      '-s',
      join(here, '..', 'load.lua'),
      url,
    ]
    return parse(await run('wrk', args, { core: LOAD_CORE, env }), 'wrk')
  }
  return sendWithAutocannon({ url, durationS, connections, rate, secret, nonce })
}

/** autocannon in a process of its own; `amount` sends exactly that many requests. */
export async function sendWithAutocannon(options) {
  const output = await run(process.execPath, [join(here, 'autocannon-load.js'), JSON.stringify(options)], {
    core: LOAD_CORE,
  })
  return parse(output, 'autocannon')
}
