import { SECRET_PREFIX } from '../constants.js'
import { closest, editDistance } from './edit-distance.js'
import { API_URL_VARIABLE, APIKEY_PREFIX } from './reconcile-config.js'
import { FORWARD_SIGNING_SECRET_PREFIX, FORWARD_URL_PREFIX } from './service-forwards.js'

/** A variable that starts like these is the relay's, or a mistake. */
const PREFIXES = ['TYLT_', 'FORWARD_', 'STORE_', 'QUARANTINE_', 'OPS_'] as const

/**
 * Per-service families: `TYLT_SECRET_<NAME>[_FILE]`, `FORWARD_URL_<NAME>`, `FORWARD_SIGNING_SECRET_<NAME>`,
 * `TYLT_APIKEY_<NAME>[_FILE]`, `TYLT_API_URL_<NAME>`.
 */
const FAMILIES = [
  SECRET_PREFIX,
  FORWARD_URL_PREFIX,
  FORWARD_SIGNING_SECRET_PREFIX,
  APIKEY_PREFIX,
  `${API_URL_VARIABLE}_`,
] as const

/**
 * Kubernetes service links (`<SERVICE>_PORT=tcp://...`, `<SERVICE>_SERVICE_HOST`, ...), set in every pod for
 * every service of its namespace: a service named `tylt-relay` or `ops` gives names that look like ours.
 */
const SERVICE_LINK =
  /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$|_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$|_PORT$/

/** How far a name may be from a known one to be taken for a misspelling: short names match common ones. */
const reach = (known: string) => (known.length < 6 ? 1 : 2)

const isServiceLink = (key: string, value: string | undefined) =>
  SERVICE_LINK.test(key) && (!key.endsWith('_PORT') || /^(tcp|udp|sctp):\/\//.test(value ?? ''))

/** The known name a misspelt variable was probably meant to be, per-service families included. */
function suggestion(key: string, known: readonly string[]): string | undefined {
  const upper = key.toUpperCase()
  let best: { name: string; distance: number } | undefined
  const consider = (name: string, distance: number) => {
    if (best === undefined || distance < best.distance) best = { name, distance }
  }
  for (const name of known) {
    const distance = editDistance(upper, name)
    if (distance <= reach(name)) consider(name, distance)
  }
  // `TYLT_SECERT_CPG`: a family prefix misspelt, the service name after it kept.
  for (let i = upper.indexOf('_'); i !== -1; i = upper.indexOf('_', i + 1)) {
    const family = closest(upper.slice(0, i + 1), FAMILIES, 2)
    if (family !== undefined && i + 1 < upper.length)
      consider(family + upper.slice(i + 1), editDistance(upper.slice(0, i + 1), family))
  }
  return best?.name
}

const isFamilyMember = (key: string) => FAMILIES.some((p) => key.startsWith(p) && key.length > p.length)

/**
 * The variables of `env` that look like the relay's but are not (a prefix of ours, or a couple of edits from a
 * known name), each as a warning naming the variable and the likely intended one; never a value.
 */
export function unknownVariables(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
): string[] {
  const warnings: string[] = []
  for (const key of Object.keys(env).sort()) {
    if (known.includes(key) || isFamilyMember(key) || isServiceLink(key, env[key])) continue
    const ours = PREFIXES.some((p) => key.toUpperCase().startsWith(p))
    const meant = suggestion(key, known)
    if (!ours && meant === undefined) continue
    const hint = meant === undefined ? '' : ` (did you mean ${meant}?)`
    warnings.push(`${key} is not a tylt-relay variable${hint}; it is ignored`)
  }
  return warnings
}
