import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Broker and process tests share the machine's Redis, RabbitMQ and NATS; two files at a time keeps
    // them from starving each other on two cores.
    maxWorkers: 2,
  },
})
