/**
 * Fastify's `trustProxy` from TRUST_PROXY: unset or `false` is off, `true` trusts every hop, a number trusts
 * that many hops, anything else is a comma-separated list of addresses or CIDR ranges.
 */
export type TrustProxy = boolean | number | string[]

export function parseTrustProxy(raw: string): TrustProxy {
  const value = raw.trim().toLowerCase()
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) return Number(value)
  const list = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
  if (list.length === 0 || list.some((part) => !/^[0-9a-f.:/]+$/.test(part))) {
    throw new Error(`TRUST_PROXY must be true, false, a hop count or a list of addresses, got "${raw}"`)
  }
  return list
}
