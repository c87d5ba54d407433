import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Against a real Docker engine, run by test/docker/run.sh with its own config.
    exclude: [...configDefaults.exclude, 'test/docker/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Broker and process tests share the machine's Redis, RabbitMQ and NATS; two files at a time keeps
    // them from starving each other on two cores.
    maxWorkers: 2,
  },
})
