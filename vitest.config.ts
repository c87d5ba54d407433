import { configDefaults, defineConfig } from 'vitest/config'

/**
 * Tests that need more than this process: child processes (the built CLI, npm, git), Redis, RabbitMQ, NATS,
 * PostgreSQL, Docker or Chromium. New ones are named `*.system.test.ts`; the rest are listed here.
 */
const SYSTEM = [
  'test/**/*.system.test.ts',
  'test/**/*.e2e.test.ts',
  'test/**/*.browser.test.ts',
  'test/process/**/*.test.ts',
  'test/postgres/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/repo/**/*.test.ts',
  'test/forward/sinks/{amqp,nats,redis}/**/*.test.ts',
  'test/store/conformance/**/*.test.ts',
  'test/store/{lock-data-dir,open-errors}.test.ts',
  'test/quarantine/{flood,quarantine-command,rotation-mistake,verify-command}.test.ts',
  'test/ops/amqp-example.test.ts',
  'test/config/service-keys.test.ts',
  'test/dockerfile-steps.test.ts',
  // A soak of the SQLite bindings against a crash of Node 24's garbage collector: minutes, not seconds.
  'test/store/statement-lifetime.test.ts',
]

/** Files of test/process in this process only: they build the relay with test/helpers/test-relay.ts. */
const IN_PROCESS = ['forward-logs']
const excepting = (glob: string) =>
  glob === 'test/process/**/*.test.ts' ? `test/process/**/!(${IN_PROCESS.join('|')}).test.ts` : glob

// Against a real Docker engine, run by test/docker/run.sh with its own config.
const exclude = [...configDefaults.exclude, 'test/docker/**']

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Broker and process tests share the machine's Redis, RabbitMQ and NATS; two files at a time keeps
    // them from starving each other on two cores.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        // In this process only (inject, temporary SQLite, in-memory stores): what a developer runs while working.
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...exclude, ...SYSTEM.map(excepting)],
        },
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: SYSTEM,
          exclude: [...exclude, ...IN_PROCESS.map((name) => `test/process/${name}.test.ts`)],
        },
      },
    ],
  },
})
