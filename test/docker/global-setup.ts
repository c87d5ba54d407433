import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { TestProject } from 'vitest/node'
import { docker } from './engine.js'

const ROOT = resolve(import.meta.dirname, '../..')

/**
 * Builds the relay's image from a clean checkout of HEAD (what a fresh clone holds, not the work tree) on
 * the stand-in base that test/docker/run.sh made, and hands its tag to the tests. The build log is kept
 * next to the checkout for the image test to read.
 */
export default async function setup(project: TestProject) {
  const nodeImage = process.env.NODE_IMAGE
  const redisImage = process.env.REDIS_IMAGE
  if (!nodeImage || !redisImage)
    throw new Error('NODE_IMAGE and REDIS_IMAGE are unset: run test/docker/run.sh')
  const checkout = mkdtempSync(join(tmpdir(), 'tylt-relay-docker-checkout-'))
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive HEAD | tar -x -C "${checkout}"`])
  const relayImage = `tylt-relay-test/relay:${execFileSync('git', ['-C', ROOT, 'rev-parse', '--short=12', 'HEAD']).toString().trim()}`
  const started = Date.now()
  const build = await docker(
    ['build', '--build-arg', `NODE_IMAGE=${nodeImage}`, '-t', relayImage, checkout],
    {
      check: false,
      timeoutMs: 1_200_000,
    },
  )
  writeFileSync(join(checkout, '.build.log'), build.stdout + build.stderr)
  if (build.code !== 0)
    throw new Error(`the image did not build:\n${(build.stdout + build.stderr).slice(-6000)}`)
  const size = Number((await docker(['image', 'inspect', '-f', '{{.Size}}', relayImage])).stdout)
  console.log(
    `docker: built ${relayImage} in ${Math.round((Date.now() - started) / 1000)} s: ${(size / 1e6).toFixed(1)} MB`,
  )
  project.provide('relayImage', relayImage)
  project.provide('nodeImage', nodeImage)
  project.provide('redisImage', redisImage)
  project.provide('checkout', checkout)
  return async () => {
    rmSync(checkout, { recursive: true, force: true })
    // Images of other commits only take space; this one stays as the next run's build cache.
    const tags = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', 'tylt-relay-test/relay']))
      .stdout
    const stale = tags.split('\n').filter((tag) => tag !== '' && tag !== relayImage)
    if (stale.length > 0) await docker(['rmi', ...stale], { check: false })
  }
}
