import { parseDuration } from '../config/duration.js'
import { type Config, loadConfig } from '../config/load-config.js'
import { UsageError } from '../errors.js'
import { type Command, stringOption } from './command.js'
import { postCallback, webhookService } from './post-callback.js'
import { readInput } from './read-input.js'
import { isSampleName, sampleBody } from './samples.js'
import { signBody } from './sign-body.js'

const DEFAULT_TIMEOUT = '30s'

export interface SendArgs {
  readonly url: string | undefined
  readonly service: string | undefined
  readonly file: string | undefined
  readonly sample: string | undefined
  readonly timeout?: string | undefined
}

function parseUrl(text: string | undefined): URL {
  if (text === undefined)
    throw new UsageError('send needs the relay URL, e.g. http://127.0.0.1:3000/webhooks/NAME')
  try {
    return new URL(text)
  } catch {
    throw new UsageError(`not a URL: ${text}`)
  }
}

/** `--service`, else the NAME of a `/webhooks/NAME` URL: the route the relay picks the secret by. */
function serviceOf(url: URL, service: string | undefined): string {
  const name = service ?? webhookService(url)
  if (name === undefined)
    throw new UsageError(`--service NAME is needed: ${url.pathname} does not end in /webhooks/NAME`)
  return name
}

/** A stand-in for Tylt: signs a body and POSTs it; prints the status and answer; true on 2xx. */
export async function sendCommand(
  config: Config,
  args: SendArgs,
  out: NodeJS.WritableStream,
): Promise<boolean> {
  const url = parseUrl(args.url)
  const service = serviceOf(url, args.service)
  const timeoutMs = parseDuration(args.timeout ?? DEFAULT_TIMEOUT)
  if (timeoutMs === undefined || timeoutMs <= 0)
    throw new UsageError(`--timeout must be a duration such as 30s or 500ms, not "${args.timeout}"`)
  const sample = args.sample ?? 'cpg'
  if (!isSampleName(sample)) throw new UsageError(`unknown sample "${sample}"; use cpg or upi`)
  // stdin only when asked for with `-`: guessing from an open stdin would hang under a supervisor.
  const body = args.file !== undefined ? readInput(args.file) : sampleBody(sample)
  const signature = signBody(config, service, body)
  const answer = await postCallback(url, body, signature, timeoutMs)
  out.write(`${answer.line}\n`)
  return answer.ok
}

export const sendCommandRow: Command = {
  name: 'send',
  summary: 'sign and POST a body to a relay, as Tylt would, and print the answer',
  usage: `tylt-relay send URL [FILE|-] [--service NAME] [--sample cpg|upi] [--timeout DURATION]
  URL               the relay's webhook URL, e.g. http://127.0.0.1:3000/webhooks/cpg
  FILE|-            the body to send (- reads stdin); a fresh built-in sample when absent
  --service NAME    the service whose current secret signs; from URL's /webhooks/NAME when absent
  --sample cpg|upi  which built-in sample to send (cpg by default)
  --timeout D       how long to wait for the answer (30s by default)
prints the answer, e.g. "200 ok (accepted)" or "200 ok (duplicate: already received)"; exits 1 unless 2xx`,
  options: { service: { type: 'string' }, sample: { type: 'string' }, timeout: { type: 'string' } },
  async run(input) {
    const config = loadConfig(input.env)
    const [url, file, extra] = input.positionals
    if (extra !== undefined) throw new UsageError(`send takes one URL and one FILE, not "${extra}"`)
    const args = {
      url,
      service: stringOption(input, 'service'),
      file,
      sample: stringOption(input, 'sample'),
      timeout: stringOption(input, 'timeout'),
    }
    return (await sendCommand(config, args, input.stdout)) ? 0 : 1
  },
}
