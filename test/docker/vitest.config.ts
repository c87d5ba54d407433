import { defineConfig } from 'vitest/config'

// The tests against a real Docker engine (test/docker/run.sh runs them); `npm test` leaves them out.
export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    globalSetup: ['test/docker/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 600_000,
    // One file at a time: each runs containers and builds, and the machine is shared.
    fileParallelism: false,
  },
})
