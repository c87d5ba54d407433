import { connect } from 'node:net'

/** What came back on one connection: the answers' status lines and bodies, and how the connection ended. */
export interface Exchange {
  readonly statuses: number[]
  readonly retryAfter: (string | undefined)[]
  readonly bodies: string[]
  /** The last answer closed the connection (`Connection: close`): requests sent after it were not read. */
  readonly closed: boolean
  /** The socket error the connection ended with (a reset), if any. */
  readonly error: string | undefined
}

/** Parses the complete answers (Content-Length framed) out of what a connection received. */
function answers(text: string) {
  const found: { status: number; retryAfter: string | undefined; body: string; close: boolean }[] = []
  let rest = text
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) return found
    const head = rest.slice(0, end)
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0)
    if (rest.length < end + 4 + length) return found
    found.push({
      status: Number(head.slice(9, 12)),
      retryAfter: /\r\nretry-after: (\S+)/i.exec(head)?.[1],
      close: /\r\nconnection: close/i.test(head),
      body: rest.slice(end + 4, end + 4 + length),
    })
    rest = rest.slice(end + 4 + length)
  }
}

/**
 * Writes `request` (one or more raw HTTP/1.1 requests) on a new connection from `localAddress` and resolves
 * once the relay has answered `expected` of them (the connection is then closed by us) or has closed it.
 */
export function exchange(
  port: number,
  request: string | Buffer,
  { localAddress = '127.0.0.1', expected = 1 } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress })
    let text = ''
    let error: string | undefined
    socket.setEncoding('latin1')
    socket.on('connect', () => socket.write(request))
    socket.on('data', (chunk: string) => {
      text += chunk
      if (answers(text).length >= expected) socket.destroy()
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message
    })
    socket.on('close', () => {
      const found = answers(text)
      resolve({
        statuses: found.map((a) => a.status),
        retryAfter: found.map((a) => a.retryAfter),
        bodies: found.map((a) => a.body),
        closed: found.at(-1)?.close ?? false,
        error: found.length >= expected || found.at(-1)?.close ? undefined : error,
      })
    })
  })
}

/** A raw POST with a Content-Length, signed with `signature`. */
export function post(path: string, body: Buffer, signature: string, extra = ''): Buffer {
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `X-TLP-SIGNATURE: ${signature}\r\nContent-Length: ${body.length}\r\n${extra}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}

/** A raw chunked POST of `body` in chunks of `chunk` bytes. */
export function chunkedPost(path: string, body: Buffer, signature: string, chunk = 16_384): Buffer {
  const parts: Buffer[] = [
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `X-TLP-SIGNATURE: ${signature}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      'latin1',
    ),
  ]
  for (let at = 0; at < body.length; at += chunk) {
    const piece = body.subarray(at, at + chunk)
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
}
