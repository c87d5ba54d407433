import { expect, test } from 'vitest'
import { cleanupAfterAll, docker, uniqueName, until } from './engine.js'
import {
  callbackBody,
  hostDir,
  postCallback,
  ready,
  runRelay,
  signature,
  writeKubeSecret,
} from './relay-container.js'

const resources = cleanupAfterAll()

test('a Secret swapped the way the kubelet swaps it (..data symlink): the new key works without a restart', async () => {
  const oldKey = `swap-old-${Date.now().toString(36)}`
  const newKey = `swap-new-${Date.now().toString(36)}`
  const secrets = hostDir('secrets')
  writeKubeSecret(secrets, { demo: `${oldKey}\n` })
  const name = resources.container(uniqueName('swap'))
  const relay = await runRelay({ name, volume: resources.volume(uniqueName('data')), secrets })
  const { url } = await ready(relay)
  const startedAt = (await docker(['inspect', '-f', '{{.State.StartedAt}}', name])).stdout.trim()

  const before = callbackBody('swap-before')
  expect(await postCallback(url, before, signature(newKey, before))).toEqual([401, expect.any(String)])
  expect(await postCallback(url, before, signature(oldKey, before))).toEqual([200, 'ok'])

  // The new key current, the old one kept for the rotation, exactly as an updated Secret would hold them.
  writeKubeSecret(secrets, { demo: `${newKey}\n${oldKey}\n` })
  const after = callbackBody('swap-after')
  const answer = await until(
    () => postCallback(url, after, signature(newKey, after)),
    ([status]) => status === 200,
    30_000,
  )
  expect(answer).toEqual([200, 'ok'])

  // Then the old key leaves the Secret: it stops working, still without a restart.
  writeKubeSecret(secrets, { demo: `${newKey}\n` })
  const late = callbackBody('swap-late')
  await until(
    () => postCallback(url, late, signature(oldKey, late)),
    ([status]) => status === 401,
    30_000,
  )
  expect(await postCallback(url, late, signature(newKey, late))).toEqual([200, 'ok'])

  expect(
    (await docker(['inspect', '-f', '{{.State.StartedAt}} {{.RestartCount}}', name])).stdout.trim(),
  ).toBe(`${startedAt} 0`)
  expect((await relay.events()).length).toBe(3)
})
