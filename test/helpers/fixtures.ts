import { readFileSync } from 'node:fs'

/** A payload file, byte-exact. */
export const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url))
