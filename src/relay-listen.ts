import type { FastifyInstance } from 'fastify'
import type { Config } from './config/load-config.js'
import { ListenError } from './errors.js'

/**
 * Opens the operations listener, then the webhook one. A failure names the variable to change (PORT,
 * OPS_PORT, HOST, OPS_HOST), since the operator sets those and the socket error names neither.
 */
export async function listen(config: Config, app: FastifyInstance, ops: FastifyInstance): Promise<void> {
  await ops
    .listen({ host: config.opsHost, port: config.opsPort })
    .catch((err: unknown) => fail(err, 'OPS_HOST', config.opsHost, 'OPS_PORT', config.opsPort))
  await app
    .listen({ host: config.host, port: config.port })
    .catch((err: unknown) => fail(err, 'HOST', config.host, 'PORT', config.port))
}

function fail(err: unknown, hostName: string, host: string, portName: string, port: number): never {
  const code = (err as NodeJS.ErrnoException).code
  const where = `${host}:${port}`
  const why =
    code === 'EADDRINUSE'
      ? `${portName}=${port} is already in use on ${host}: another process listens there; stop it or set ${portName} to a free port`
      : code === 'EADDRNOTAVAIL'
        ? `${hostName}=${host} is not an address of this machine`
        : code === 'EACCES'
          ? `${portName}=${port} needs privileges this process does not have; use a port above 1023`
          : `cannot listen on ${where} (${portName}, ${hostName}): ${(err as Error).message}`
  throw new ListenError(why, code ?? 'ERROR', { cause: err })
}
