import { createSecretKey, type KeyObject } from 'node:crypto'
import { OPS_TOKEN_MIN_LENGTH } from '../constants.js'
import { readFileVariable } from './file-variable.js'

/**
 * The console's token, from `OPS_TOKEN` or the file `OPS_TOKEN_FILE` names (its first line). A KeyObject, so
 * that a stray log of the configuration cannot print it. Undefined when neither is set: the console is off.
 * Problems are pushed onto `problems`, naming the variable, never the file or the token.
 */
export function loadOpsToken(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): KeyObject | undefined {
  const inline = env.OPS_TOKEN?.trim() ?? ''
  const file = env.OPS_TOKEN_FILE?.trim() ?? ''
  if (inline !== '' && file !== '') {
    problems.push('OPS_TOKEN and OPS_TOKEN_FILE are both set; set only one')
    return undefined
  }
  let token = inline
  if (file !== '') {
    try {
      token = (readFileVariable(file, 'token').split(/\r?\n/, 1)[0] ?? '').trim()
    } catch (err) {
      problems.push(`OPS_TOKEN_FILE: ${(err as Error).message}`)
      return undefined
    }
  }
  if (token === '' && file === '') return undefined
  const name = file === '' ? 'OPS_TOKEN' : 'OPS_TOKEN_FILE'
  if (token.length < OPS_TOKEN_MIN_LENGTH) {
    problems.push(`${name} must hold at least ${OPS_TOKEN_MIN_LENGTH} characters (openssl rand -hex 32)`)
    return undefined
  }
  return createSecretKey(Buffer.from(token, 'utf8'))
}
