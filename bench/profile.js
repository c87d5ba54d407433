// `node bench/profile.js [seconds] [--forward] [--tmpfs]`: runs tylt-relay under wrk load with `node --cpu-prof`
// and prints the functions with the most self time, summed over the main thread (and any worker profile).
// `--tmpfs` keeps the store in memory, so that the profile shows the CPU per callback the disk would hide.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { newNonce } from './lib/body.js'
import { load } from './lib/load.js'
import { tempFolder } from './lib/proc.js'
import { startRedis } from './lib/redis.js'
import { SECRET, startRelay } from './lib/relay.js'

const seconds = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 8)
const forward = process.argv.includes('--forward')
const tmpfs = process.argv.includes('--tmpfs')
const port = Number(process.env.BENCH_PORT ?? 18301)
const dir = process.env.BENCH_PROFILE_DIR ?? tempFolder('tylt-profile-')
process.env.BENCH_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${dir}`
const redis = forward ? await startRedis(port + 100) : undefined
const relay = await startRelay(port, port + 1, {
  tmpfs,
  ...(forward ? { forwardUrl: `redis://127.0.0.1:${port + 100}?stream=profile` } : {}),
})
const result = await load({ url: relay.url, durationS: seconds, secret: SECRET, nonce: newNonce() })
process.stdout.write(`${Math.round(result.rps)} req/s under the profiler\n`)
await relay.stop()
await redis?.stop()

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'))
  const self = new Map()
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const dt = new Map()
  profile.samples.forEach((id, i) => {
    dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  let total = 0
  for (const [id, us] of dt) {
    const { callFrame: f } = byId.get(id)
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')}:${f.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + us)
    total += us
  }
  process.stdout.write(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled\n`)
  for (const [key, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 40)) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`)
  }
}
