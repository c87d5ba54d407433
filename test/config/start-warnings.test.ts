import { describe, expect, it } from 'vitest'
import { KNOWN_VARIABLES, loadConfig } from '../../src/config/load-config.js'
import { startWarnings } from '../../src/config/start-warnings.js'
import { unknownVariables } from '../../src/config/unknown-variables.js'
import { SECRETS } from '../helpers/index.js'

const warningsOf = (env: Record<string, string>) => unknownVariables(env, KNOWN_VARIABLES)

describe('variables that look like the relay’s but are not', () => {
  it('are named with the variable they were probably meant to be, never with their value', () => {
    const env = {
      FORWARD_ULR: 'redis://:hunter2-secret@127.0.0.1:6379?stream=tylt',
      TYLT_SECERT_CPG: 'cpg-secret-value-1234',
      forward_url: 'http://127.0.0.1/x',
      DATA_DRI: './data',
      PROT: '3000',
      TYLT_SECRETS_PRIME_UPI: 'upi-secret-value-5678',
      FORWARD_SIGNNG_SECRET_CPG: 'whsec_abc',
      QUARANTINE_MAX_BYTE: '1',
      OPS_TOKN: 'token-value-abcdef',
      STORE_PATH: '/var/lib/tylt',
      TYLT_WHATEVER: 'x',
    }
    const warnings = warningsOf(env)
    expect(warnings).toEqual([
      'DATA_DRI is not a tylt-relay variable (did you mean DATA_DIR?); it is ignored',
      'FORWARD_SIGNNG_SECRET_CPG is not a tylt-relay variable (did you mean FORWARD_SIGNING_SECRET_CPG?); it is ignored',
      'FORWARD_ULR is not a tylt-relay variable (did you mean FORWARD_URL?); it is ignored',
      'OPS_TOKN is not a tylt-relay variable (did you mean OPS_TOKEN?); it is ignored',
      'PROT is not a tylt-relay variable (did you mean PORT?); it is ignored',
      'QUARANTINE_MAX_BYTE is not a tylt-relay variable (did you mean QUARANTINE_MAX_BYTES?); it is ignored',
      'STORE_PATH is not a tylt-relay variable; it is ignored',
      'TYLT_SECERT_CPG is not a tylt-relay variable (did you mean TYLT_SECRET_CPG?); it is ignored',
      'TYLT_SECRETS_PRIME_UPI is not a tylt-relay variable (did you mean TYLT_SECRET_PRIME_UPI?); it is ignored',
      'TYLT_WHATEVER is not a tylt-relay variable; it is ignored',
      'forward_url is not a tylt-relay variable (did you mean FORWARD_URL?); it is ignored',
    ])
    for (const value of Object.values(env)) expect(warnings.join('\n')).not.toContain(value)
  })

  it('leave the relay’s own variables, the per-service ones and a machine’s usual ones alone', () => {
    const env = {
      TYLT_SECRET_CPG: 'x',
      TYLT_SECRET_PRIME_UPI_FILE: '/run/secrets/upi',
      FORWARD_URL: 'redis://127.0.0.1:6379?stream=x',
      FORWARD_URL_CPG: 'http://127.0.0.1/',
      FORWARD_SIGNING_SECRET_CPG: 'whsec_x',
      STORE_URL_FILE: '/run/secrets/store',
      OPS_TOKEN_FILE: '/run/secrets/ops',
      NODE_ENV: 'development',
      HOME: '/root',
      HOSTNAME: 'relay-0',
      PATH: '/usr/bin',
      PWD: '/app',
      LOGNAME: 'root',
      SHELL: '/bin/sh',
      // Kubernetes service links of a service named tylt-relay, and of one named ops.
      TYLT_RELAY_PORT: 'tcp://10.0.0.7:3000',
      TYLT_RELAY_SERVICE_HOST: '10.0.0.7',
      TYLT_RELAY_SERVICE_PORT_OPS: '9090',
      TYLT_RELAY_PORT_3000_TCP_ADDR: '10.0.0.7',
      OPS_SERVICE_HOST: '10.0.0.8',
    }
    expect(warningsOf(env)).toEqual([])
  })
})

describe('the public demo secret', () => {
  it('is warned about at start, naming the variable and never the secret', () => {
    const env = { TYLT_SECRET_DEMO: 'demo-secret-change-me' }
    const warnings = startWarnings(env, loadConfig(env))
    expect(warnings).toEqual([
      'TYLT_SECRET_DEMO holds the public demo secret of .env.example: anyone can sign callbacks that /webhooks/demo accepts; for trying the relay only (refused beside other services and with NODE_ENV=production)',
    ])
    expect(
      startWarnings({ TYLT_SECRET_DEMO: SECRETS.cpg }, loadConfig({ TYLT_SECRET_DEMO: SECRETS.cpg })),
    ).toEqual([])
  })

  it('is refused with NODE_ENV=production, with every other problem', () => {
    const env = { TYLT_SECRET_DEMO: 'demo-secret-change-me', NODE_ENV: 'production', PORT: 'x' }
    expect(() => loadConfig(env)).toThrow(
      'invalid configuration:\n' +
        '  - PORT must be a whole number from 0 to 65535, got "x"\n' +
        '  - TYLT_SECRET_DEMO: holds the public demo secret of .env.example, refused with NODE_ENV=production (anyone could sign callbacks); use the secret key from the Tylt dashboard',
    )
    expect(() => loadConfig({ ...env, PORT: '1', NODE_ENV: 'development' })).not.toThrow()
  })
})

describe('the variables of reconcile', () => {
  it('are known, per service too, and a misspelt one is named', () => {
    const env = {
      TYLT_APIKEY_CPG: 'cpg-api-key-value',
      TYLT_APIKEY_PRIME_UPI_FILE: '/run/secrets/upi-key',
      TYLT_API_URL: 'https://api.example.test',
      TYLT_API_URL_CPG: 'https://cpg.example.test',
      RECONCILE_INTERVAL: '5m',
      RECONCILE_MAX_AGE: '72h',
      RECONCILE_INTERVL: '5m',
      TYLT_APIKYE_CPG: 'cpg-api-key-value',
    }
    const warnings = warningsOf(env)
    expect(warnings).toEqual([
      'RECONCILE_INTERVL is not a tylt-relay variable (did you mean RECONCILE_INTERVAL?); it is ignored',
      'TYLT_APIKYE_CPG is not a tylt-relay variable (did you mean TYLT_APIKEY_CPG?); it is ignored',
    ])
    expect(warnings.join('\n')).not.toContain('cpg-api-key-value')
  })
})
