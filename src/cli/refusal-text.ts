import type { QuarantineReason } from '../core/quarantine-store.js'

/** Why a request does not verify, in an operator's words; names services, never a secret. */
export function refusalText(reason: QuarantineReason, services: readonly string[]): string {
  switch (reason) {
    case 'missing':
      return 'no signature (the request had no X-TLP-SIGNATURE header)'
    case 'malformed':
      return 'the signature is not 64 hex digits'
    case 'mismatch':
      return `the signature matches no secret configured for ${services.join(', ') || 'any service'}`
    case 'unknown_service':
      return `service ${services.join(', ')} is not configured`
  }
}

/** `current secret`, or `older secret N` for the Nth older one (the order of the secret list). */
export const slotText = (slot: number): string => (slot === 0 ? 'current secret' : `older secret ${slot}`)
