import { randomUUID } from 'node:crypto'
import { parseDuration } from '../config/duration.js'
import { type Config, loadConfig } from '../config/load-config.js'
import { SIGNATURE_HEADER } from '../constants.js'
import { UsageError } from '../errors.js'
import { type Command, type CommandInput, stringOption } from './command.js'
import { postCallback, shownUrl, webhookService } from './post-callback.js'
import { signBody } from './sign-body.js'
import { textTable } from './text-table.js'
import { triggerBody } from './trigger-bodies.js'
import { catalogue } from './trigger-catalogue.js'
import { triggerPlan } from './trigger-plan.js'

const DEFAULT_TIMEOUT_MS = 30_000

function listLines(json: boolean): string[] {
  const rows = catalogue()
  if (json) return [JSON.stringify(rows, null, 2)]
  const header = ['FAMILY', 'STATE', 'WIRE', 'PRODUCT', 'FINAL', 'OUTCOME']
  return textTable(
    header,
    rows.map((r) => [r.family, r.state, r.wire, r.product, r.final, r.outcome]),
  )
}

/** `--service`, else the URL's `/webhooks/NAME`, else the only service configured. */
function serviceFor(config: Config, url: URL | undefined, service: string | undefined): string {
  const named = service ?? (url === undefined ? undefined : webhookService(url))
  if (named !== undefined) return named
  const [only, ...others] = config.services
  if (only === undefined || others.length > 0)
    throw new UsageError(
      `--service NAME is needed: configured ${config.services.map((s) => s.name).join(', ') || 'none'}`,
    )
  return only.name
}

/** The relay the configuration describes: its PORT on loopback when it listens on every address. */
function localRelay(config: Config, service: string): URL {
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host
  const authority = host.includes(':') ? `[${host}]` : host
  return new URL(`http://${authority}:${config.port}/webhooks/${encodeURIComponent(service)}`)
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i

/** A triggered callback is as good as a real one to a relay holding the same secret: local unless told. */
function checkTarget(url: URL, allowRemote: boolean, stderr: NodeJS.WritableStream): void {
  if (LOOPBACK.test(url.hostname)) return
  if (!allowRemote)
    throw new UsageError(`${url.hostname} is not this machine; add --allow-remote to send there anyway`)
  stderr.write(`note: sending to ${url.hostname}, signed with the service's current secret\n`)
}

function parseUrl(text: string): URL {
  try {
    return new URL(text)
  } catch {
    throw new UsageError(`not a URL: ${text}`)
  }
}

/** `FAMILY [STATE] [URL]`: a second word with a scheme is the URL (`trigger upi --sequence URL`). */
function positionalsOf(input: CommandInput) {
  const [family, second, third, extra] = input.positionals
  if (extra !== undefined) throw new UsageError(`trigger takes FAMILY, STATE and URL, not "${extra}"`)
  const secondIsUrl = second?.includes('://') === true
  return { family, state: secondIsUrl ? undefined : second, url: secondIsUrl ? second : third }
}

async function trigger(input: CommandInput): Promise<number> {
  const args = positionalsOf(input)
  const plan = triggerPlan(args.family, args.state, input.values.sequence === true)
  const timeoutText = stringOption(input, 'timeout')
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeoutText)
  if (timeoutMs === undefined || timeoutMs <= 0)
    throw new UsageError(`--timeout must be a duration such as 30s or 500ms, not "${timeoutText}"`)
  const config = loadConfig(input.env)
  const given = args.url === undefined ? undefined : parseUrl(args.url)
  const service = serviceFor(config, given, stringOption(input, 'service'))
  const url = given ?? localRelay(config, service)
  const stderr = input.stderr ?? process.stderr
  const merchantOrderId = stringOption(input, 'order') ?? `trigger-${randomUUID().slice(0, 8)}`
  const print = input.values.print === true
  if (!print) checkTarget(url, input.values['allow-remote'] === true, stderr)
  const start = Date.now()
  for (const [index, step] of plan.steps.entries()) {
    // Rising times along a sequence, one second apart, as a lifecycle's callbacks would be.
    const body = triggerBody(
      plan.family,
      { merchantOrderId, at: start + index * 1000 },
      step.wire,
      step.state,
    )
    const signature = signBody(config, service, body)
    const what = `${plan.family.name} ${step.state} (${step.wire}) order ${merchantOrderId}`
    if (print) {
      input.stdout.write(
        `POST ${shownUrl(url)}\ncontent-type: application/json\n${SIGNATURE_HEADER}: ${signature}\n\n${body}\n`,
      )
      continue
    }
    const answer = await postCallback(url, body, signature, timeoutMs)
    input.stdout.write(`${answer.line}  ${what}\n`)
    // Later states of a lifecycle make no sense after one the relay did not take.
    if (!answer.ok || !answer.line.startsWith('200 ok')) return 1
  }
  return 0
}

export const triggerCommand: Command = {
  name: 'trigger',
  summary: 'send a realistic, signed Tylt callback of any family and state to a local relay',
  usage: `tylt-relay trigger FAMILY STATE [URL] [--service NAME] [--order ID] [--print] [--allow-remote]
tylt-relay trigger FAMILY [STATE] --sequence [URL] [--service NAME] [--order ID]
tylt-relay trigger --list [--json]
  FAMILY           cpg-pay-in, cpg-payout, upi, upi-h2h, inr-payout, eu-pay-in, eu-payout, pix-pay-in,
                   pix-payout or php
  STATE            a state's name or the value Tylt sends (e.g. upi awaiting-payment, upi 2)
  URL              the relay's webhook URL; http://127.0.0.1:PORT/webhooks/SERVICE by default
  --list           print every family and state, with the finality and outcome the relay gives it
  --sequence       send the lifecycle up to STATE in order (the one that ends well without STATE)
  --order ID       the merchant order id (a fresh trigger-... id by default): one order across calls
  --service NAME   whose current secret signs; from URL, else the only service configured
  --print          print the signed request instead of sending it
  --allow-remote   send to a URL that is not on this machine
  --timeout D      how long to wait for each answer (30s by default)
prints one line per callback, e.g. "200 ok (accepted)  upi awaiting-payment (2) order trigger-1a2b3c4d";
exits 1 unless every answer is 200 ok`,
  options: {
    list: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    sequence: { type: 'boolean', default: false },
    order: { type: 'string' },
    service: { type: 'string' },
    print: { type: 'boolean', default: false },
    'allow-remote': { type: 'boolean', default: false },
    timeout: { type: 'string' },
  },
  async run(input) {
    if (input.values.list === true) {
      input.stdout.write(`${listLines(input.values.json === true).join('\n')}\n`)
      return 0
    }
    return trigger(input)
  },
}
