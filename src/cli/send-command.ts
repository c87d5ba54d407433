import { type Config, loadConfig } from '../config/load-config.js'
import { SIGNATURE_HEADER } from '../constants.js'
import { UsageError } from '../errors.js'
import { type Command, stringOption } from './command.js'
import { readInput } from './read-input.js'
import { isSampleName, sampleBody } from './samples.js'
import { signBody } from './sign-body.js'

export interface SendArgs {
  readonly url: string | undefined
  readonly service: string | undefined
  readonly file: string | undefined
  readonly sample: string | undefined
}

/** A stand-in for Tylt: signs a body and POSTs it; prints the status and answer; true on 2xx. */
export async function sendCommand(
  config: Config,
  args: SendArgs,
  out: NodeJS.WritableStream,
): Promise<boolean> {
  if (args.url === undefined)
    throw new UsageError('send needs the relay URL, e.g. http://127.0.0.1:3000/webhooks/NAME')
  let url: URL
  try {
    url = new URL(args.url)
  } catch {
    throw new UsageError(`not a URL: ${args.url}`)
  }
  const sample = args.sample ?? 'cpg'
  if (!isSampleName(sample)) throw new UsageError(`unknown sample "${sample}"; use cpg or upi`)
  // stdin only when asked for with `-`: guessing from an open stdin would hang under a supervisor.
  const body = args.file !== undefined ? readInput(args.file) : sampleBody(sample)
  const signature = signBody(config, args.service, body)
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
    body,
    signal: AbortSignal.timeout(30_000),
  })
  out.write(`${response.status} ${await response.text()}\n`)
  return response.ok
}

export const sendCommandRow: Command = {
  name: 'send',
  summary: 'sign and POST a body to a relay, as Tylt would, and print the answer',
  usage: 'tylt-relay send URL --service NAME [FILE|-] [--sample cpg|upi]',
  options: { service: { type: 'string' }, sample: { type: 'string' } },
  async run(input) {
    const config = loadConfig(input.env)
    const [url, file] = input.positionals
    const args = { url, service: stringOption(input, 'service'), file, sample: stringOption(input, 'sample') }
    return (await sendCommand(config, args, input.stdout)) ? 0 : 1
  },
}
