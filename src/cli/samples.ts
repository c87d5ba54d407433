import { randomInt } from 'node:crypto'
import { triggerBody } from './trigger-bodies.js'
import { FAMILIES } from './trigger-catalogue.js'

/**
 * `send --sample`: kept as a shorthand for two bodies `trigger` makes (a completed CPG pay-in, a completed
 * UPI trade), each with a fresh merchant order id so every send is a new event rather than a duplicate.
 */
const SAMPLES = {
  cpg: { family: 'cpg-pay-in', wire: 'Completed', label: 'completed', prefix: 'order' },
  upi: { family: 'upi', wire: '4', label: 'completed', prefix: 'upi' },
} as const

export type SampleName = keyof typeof SAMPLES

export const isSampleName = (name: string): name is SampleName => Object.hasOwn(SAMPLES, name)

export function sampleBody(name: SampleName): Buffer {
  const { family, wire, label, prefix } = SAMPLES[name]
  const order = { merchantOrderId: `${prefix}-${randomInt(100_000, 999_999)}`, at: Date.now() }
  return triggerBody(FAMILIES.find((f) => f.name === family)!, order, wire, label)
}
