import { OUTCOME_HEADER, SIGNATURE_HEADER } from '../constants.js'
import { SendFailedError } from '../errors.js'
import { describeFetchFailure } from './describe-fetch-failure.js'

/** What the relay's outcome header says, as the CLI prints it; the body stays `ok`. */
const OUTCOMES: Readonly<Record<string, string>> = {
  accepted: 'accepted',
  duplicate: 'duplicate: already received',
}

/** The URL as printed and fetched: never its user name or password (fetch refuses them in a URL). */
export const shownUrl = (url: URL) => `${url.origin}${url.pathname}${url.search}`

/** Credentials in the URL (a relay behind a proxy that asks for them) travel as Basic authorization. */
function basicAuth(url: URL): Record<string, string> {
  if (url.username === '' && url.password === '') return {}
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` }
}

export interface CallbackAnswer {
  readonly ok: boolean
  /** `200 ok (accepted)`: status, answer, and the relay's outcome when it tells one. */
  readonly line: string
}

/** POSTs a signed body as Tylt does: one `X-TLP-SIGNATURE` header, JSON content type, no retry. */
export async function postCallback(
  url: URL,
  body: Buffer,
  signature: string,
  timeoutMs: number,
): Promise<CallbackAnswer> {
  let response: Response
  let answer: string
  try {
    response = await fetch(shownUrl(url), {
      method: 'POST',
      headers: { ...basicAuth(url), 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    answer = await response.text()
  } catch (err) {
    throw new SendFailedError(shownUrl(url), describeFetchFailure(err, url, timeoutMs))
  }
  const outcome = OUTCOMES[response.headers.get(OUTCOME_HEADER) ?? '']
  return {
    ok: response.ok,
    line: `${response.status} ${answer}${outcome === undefined ? '' : ` (${outcome})`}`,
  }
}

/** The NAME of a `/webhooks/NAME` URL: the route the relay picks the secret by; undefined for any other path. */
export function webhookService(url: URL): string | undefined {
  const name = /^\/webhooks\/([^/]+)\/?$/.exec(url.pathname)?.[1]
  return name === undefined ? undefined : decodeURIComponent(name).toLowerCase()
}
