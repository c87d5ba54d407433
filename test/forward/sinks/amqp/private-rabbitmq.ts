import { spawn } from 'node:child_process'
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, sleep, uniqueName, waitForPort } from '../helpers.js'

export interface PrivateRabbit {
  /** amqp:// URL of the node (guest/guest, allowed from loopback). */
  readonly url: string
  /** The Erlang VM of the node, for SIGSTOP. */
  readonly pid: number
  /** Kills the node and waits until nothing of it is left. */
  stop(): Promise<void>
}

/** The pid of the Erlang VM whose environment names this node (the launcher scripts exec or fork it). */
function nodePid(nodeName: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (!readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('beam')) continue
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      if (environ.includes(`RABBITMQ_NODENAME=${nodeName}`)) return Number(entry)
    } catch {
      // A process that ended meanwhile, or one this user may not read.
    }
  }
  return undefined
}

/**
 * A RabbitMQ node of its own (never the shared one), with `config` lines added to its rabbitmq.conf, on
 * free ports, its files in `dir`. Starting one takes seconds, so a file starts one in `beforeAll` and
 * stops it in `afterAll`.
 */
export async function startPrivateRabbit(dir: string, config: string): Promise<PrivateRabbit> {
  const [port, distPort] = [await freePort(), await freePort()]
  // The launcher drops to the rabbitmq user when started as root: it must be able to write here.
  chmodSync(dir, 0o777)
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n${config}\n`)
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n')
  const nodeName = `${uniqueName('tylt-test')}@localhost`
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_FEATURE_FLAGS_FILE: join(dir, 'feature_flags'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONF_ENV_FILE: '/dev/null',
  }
  const launcher = spawn('rabbitmq-server', [], { env, cwd: dir, stdio: 'ignore' })
  const stop = async (): Promise<void> => {
    const pid = nodePid(nodeName)
    if (pid !== undefined) process.kill(pid, 'SIGKILL')
    launcher.kill('SIGKILL')
    // Nothing of the node may outlive the test.
    for (let i = 0; i < 100 && nodePid(nodeName) !== undefined; i++) await sleep(50)
  }
  try {
    await waitForPort(port, 90_000)
  } catch (err) {
    await stop()
    throw err
  }
  const pid = nodePid(nodeName)
  if (pid === undefined) throw new Error(`RabbitMQ node ${nodeName} listens but its process was not found`)
  return { url: `amqp://guest:guest@127.0.0.1:${port}`, pid, stop }
}
