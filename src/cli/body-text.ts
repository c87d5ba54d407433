import { maskPersonalData } from '../console/mask-personal-data.js'

/** How the CLI prints a body: `encoding` says what `body` holds. */
export interface BodyView {
  /** `masked`: the body as JSON with personal data masked (or `[masked]` whole when it is not JSON). */
  readonly encoding: 'utf8' | 'base64' | 'masked'
  readonly body: string
  /** How many values were masked; only with `masked`. */
  readonly masked?: number
}

/** A body as text when it is valid UTF-8 (Tylt sends JSON), otherwise base64 so that no byte is lost. */
export function bodyText(body: Uint8Array): BodyView {
  const buffer = Buffer.from(body)
  const text = buffer.toString('utf8')
  return Buffer.from(text, 'utf8').equals(buffer)
    ? { encoding: 'utf8', body: text }
    : { encoding: 'base64', body: buffer.toString('base64') }
}

/** The body with personal data masked as the console masks it, whole; with `unmasked`, as received. */
export async function bodyView(body: Uint8Array, unmasked: boolean): Promise<BodyView> {
  if (unmasked) return bodyText(body)
  const view = await maskPersonalData(Buffer.from(body), false, Number.POSITIVE_INFINITY)
  return { encoding: 'masked', body: view.text, masked: view.masked }
}

/** The lines under a body's fields, as `events show` and `quarantine show` print them. */
export async function bodyLines(body: Uint8Array, print: boolean, unmasked: boolean): Promise<string[]> {
  if (!print)
    return [`body: ${body.length} bytes, not shown (it may hold personal data); add --body to print it`]
  const view = await bodyView(body, unmasked)
  if (view.encoding !== 'masked') return [`body (${view.encoding}):`, view.body]
  return [
    `body (${view.masked} value(s) that may be personal data masked; add --unmasked to print it as received):`,
    view.body,
  ]
}
