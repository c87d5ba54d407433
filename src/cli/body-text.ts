/** A body as text when it is valid UTF-8 (Tylt sends JSON), otherwise base64 so that no byte is lost. */
export function bodyText(body: Uint8Array): { encoding: 'utf8' | 'base64'; body: string } {
  const buffer = Buffer.from(body)
  const text = buffer.toString('utf8')
  return Buffer.from(text, 'utf8').equals(buffer)
    ? { encoding: 'utf8', body: text }
    : { encoding: 'base64', body: buffer.toString('base64') }
}
