/**
 * What a delivery's metadata may arrive as: fetch's `Headers`, Node's `IncomingHttpHeaders`, NATS headers
 * (anything with `get`), AMQP's header table, or the fields of a Redis stream entry.
 */
export type MetadataSource =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, unknown>>

/** One metadata value by its lower-case name, as a string; undefined when absent or empty. */
export function readMetadata(source: MetadataSource, name: string): string | undefined {
  const getter = (source as { get?: unknown }).get
  const value =
    typeof getter === 'function'
      ? (getter as (n: string) => unknown).call(source, name)
      : (source as Record<string, unknown>)[name]
  const first = Array.isArray(value) ? value[0] : value
  if (first === undefined || first === null) return undefined
  const text = first instanceof Uint8Array ? Buffer.from(first).toString('utf8') : String(first)
  return text === '' ? undefined : text
}
