/**
 * Fastify's `trustProxy` from TRUST_PROXY: unset or `false` is off, a number trusts that many hops (the
 * proxies in front), anything else is a comma-separated list of the proxies' addresses or CIDR ranges.
 * `true` is refused: it trusts every hop, so any client picks the address the relay sees by writing it
 * into X-Forwarded-For, and with it whose budget its refusals are charged to.
 */
export type TrustProxy = false | number | string[]

export function parseTrustProxy(raw: string): TrustProxy {
  const value = raw.trim().toLowerCase()
  if (value === 'true') {
    throw new Error(
      'TRUST_PROXY=true trusts every X-Forwarded-For hop, so any client could claim any address (Tylt’s ' +
        'included); set the number of proxies in front (e.g. TRUST_PROXY=1) or their addresses/CIDRs',
    )
  }
  if (value === 'false') return false
  if (/^\d+$/.test(value)) return Number(value)
  const list = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
  if (list.length === 0 || list.some((part) => !/^[0-9a-f.:/]+$/.test(part))) {
    throw new Error(`TRUST_PROXY must be false, a hop count or a list of addresses/CIDRs, got "${raw}"`)
  }
  return list
}
