import { execFile } from 'node:child_process'
import { chmodSync, chownSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { StoreUrl } from '../../src/config/store-url.js'
import { createPool } from '../../src/store/postgres/create-pool.js'
import { tempDir } from '../helpers/index.js'
import { serverUser, startPrivateServer } from './postgres-helper.js'

const run = promisify(execFile)
/** Node's refusal of a certificate whose issuer it does not trust (its message grew a hint in Node 24). */
const UNTRUSTED = /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\b/

/** A private CA, and a certificate it signed for 127.0.0.1 that the server's user can read. */
async function privateCa() {
  const dir = tempDir('tylt-relay-tls-')
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir })
  const key = ['-newkey', 'rsa:2048', '-nodes']
  await openssl(
    'req',
    '-x509',
    ...key,
    '-days',
    '2',
    '-subj',
    '/CN=tylt test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  )
  await openssl('req', ...key, '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr')
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName = IP:127.0.0.1\n')
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.cnf',
    '-out',
    'server.pem',
  )
  const user = serverUser()
  if (user !== undefined) chownSync(dir, user.uid, user.gid)
  for (const name of ['server.key', 'server.pem']) {
    chmodSync(join(dir, name), 0o600)
    if (user !== undefined) chownSync(join(dir, name), user.uid, user.gid)
  }
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') }
}

/** Whether a connection made as the relay makes it, on `url`, is encrypted; or the error it failed with, code first. */
async function encrypted(url: string): Promise<boolean | string> {
  const pool = createPool(new StoreUrl(url), { max: 1 })
  try {
    const { rows } = await pool.query<{ ssl: boolean }>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    )
    return rows[0]!.ssl
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException
    return `${code}: ${message}`
  } finally {
    await pool.end()
  }
}

describe('STORE_URL over TLS to a server with a private CA', () => {
  it('connects with verify-full and the CA in sslrootcert, and refuses the certificate without it', async () => {
    const files = await privateCa()
    const server = await startPrivateServer({ ssl: 'on', ssl_cert_file: files.cert, ssl_key_file: files.key })
    expect(await encrypted(`${server.url}?sslmode=verify-full&sslrootcert=${files.ca}`)).toBe(true)
    expect(await encrypted(`${server.url}?sslmode=verify-full`)).toMatch(UNTRUSTED)
    // require means verify-full in node-postgres 8: refused as well, unless libpq's meaning is asked for.
    expect(await encrypted(`${server.url}?sslmode=require`)).toMatch(UNTRUSTED)
    expect(await encrypted(`${server.url}?uselibpqcompat=true&sslmode=require`)).toBe(true)
    expect(await encrypted(`${server.url}?sslmode=disable`)).toBe(false)
    // The certificate names 127.0.0.1, not localhost: the host name is checked too.
    const byName = server.url.replace('127.0.0.1', 'localhost')
    expect(await encrypted(`${byName}?sslmode=verify-full&sslrootcert=${files.ca}`)).toMatch(/localhost/)
  }, 30_000)
})
