import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { StoreUrl } from '../../../src/config/store-url.js'
import { clientConfig } from '../../../src/store/postgres/create-pool.js'
import { tempDir } from '../../helpers/index.js'

/**
 * The relay hands STORE_URL to node-postgres as it is and sets no TLS option of its own, so the URL's sslmode
 * decides. These are the TLS options node-postgres (pg 8) makes of it, as docs/postgres.md describes them; a
 * pg upgrade that changes them (pg 9 adopts libpq's meanings) fails here and must update that page.
 */
/** The TLS options of a client on a URL with `query`, with PGSSLMODE set to `pgsslmode` (unset if undefined). */
function tlsOf(query: string, pgsslmode?: string) {
  const saved = process.env.PGSSLMODE
  if (pgsslmode === undefined) delete process.env.PGSSLMODE
  else process.env.PGSSLMODE = pgsslmode
  try {
    const config = clientConfig(new StoreUrl(`postgres://relay:pw@db.internal:5432/payments?${query}`))
    expect(config.ssl).toBeUndefined()
    return new pg.Client(config).ssl
  } finally {
    if (saved === undefined) delete process.env.PGSSLMODE
    else process.env.PGSSLMODE = saved
  }
}

describe('sslmode in STORE_URL', () => {
  it('without sslmode, or with disable, connects without TLS', () => {
    expect(tlsOf('')).toBe(false)
    expect(tlsOf('sslmode=disable')).toBe(false)
  })

  it('treats prefer, require and verify-ca as verify-full: TLS always, the certificate and host name checked', () => {
    for (const mode of ['prefer', 'require', 'verify-ca', 'verify-full']) {
      // No option of its own: Node's defaults apply, rejectUnauthorized true and the host name checked.
      expect(tlsOf(`sslmode=${mode}`), mode).toEqual({})
    }
  })

  it('checks the certificate against the CA file sslrootcert names, read when the client is made', () => {
    const ca = join(tempDir(), 'private-ca.pem')
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nprivate CA\n-----END CERTIFICATE-----\n')
    expect(tlsOf(`sslmode=verify-full&sslrootcert=${ca}`)).toEqual({
      ca: '-----BEGIN CERTIFICATE-----\nprivate CA\n-----END CERTIFICATE-----\n',
    })
    expect(() => tlsOf(`sslmode=verify-full&sslrootcert=${ca}.missing`)).toThrow(/ENOENT/)
  })

  it("gives libpq's meanings with uselibpqcompat=true: require encrypts without checking the certificate", () => {
    expect(tlsOf('uselibpqcompat=true&sslmode=require')).toEqual({ rejectUnauthorized: false })
    expect(tlsOf('uselibpqcompat=true&sslmode=prefer')).toEqual({ rejectUnauthorized: false })
    expect(() => tlsOf('uselibpqcompat=true&sslmode=verify-ca')).toThrow(/sslrootcert/)
    expect(tlsOf('sslmode=no-verify')).toEqual({ rejectUnauthorized: false })
  })

  it('falls back to PGSSLMODE when the URL names no sslmode', () => {
    expect(tlsOf('', 'require')).toBe(true)
    expect(tlsOf('sslmode=disable', 'require')).toBe(false)
  })
})
