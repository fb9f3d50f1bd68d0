// Raw TCP requests and hand-built WebSocket frames, for tests that send what no well-behaved
// client (fetch, ws) would: broken HTTP, bad frames, resets.
import net from 'node:net'
import { randomBytes } from 'node:crypto'

export interface RawAnswer {
  /** Everything the peer wrote before the connection ended, as latin1. */
  text: string
  /** Status code of the first response line, null when there was none. */
  status: number | null
  /** The peer neither answered nor closed within the time limit. */
  timedOut: boolean
}

/**
 * Connect, write `data`, then half-close (`end`, the default), reset, or leave the socket open,
 * and collect the answer until the peer closes or `timeoutMs` passes.
 */
export function rawExchange(port: number, data: Buffer | string, opts: { after?: 'end' | 'reset' | 'none'; timeoutMs?: number } = {}): Promise<RawAnswer> {
  const after = opts.after ?? 'end'
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let timedOut = false
    const socket = net.connect(port, '127.0.0.1')
    const timer = setTimeout(() => {
      timedOut = true
      socket.destroy()
    }, opts.timeoutMs ?? 5000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => undefined) // resets from either side end up in 'close'
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      resolve({ text, status: m ? Number(m[1]) : null, timedOut })
    })
    socket.once('connect', () => {
      socket.write(data)
      if (after === 'end') socket.end()
      else if (after === 'reset') socket.resetAndDestroy()
    })
  })
}

/** A WebSocket opening handshake for `target` as raw bytes; `headers` are added verbatim. */
export function upgradeRequest(port: number, target: string | Buffer, headers: (string | Buffer)[] = []): Buffer {
  const lines: (string | Buffer)[] = [
    'GET ',
    target,
    ' HTTP/1.1\r\n',
    `Host: 127.0.0.1:${port}\r\n`,
    'Upgrade: websocket\r\nConnection: Upgrade\r\n',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`
  ]
  for (const h of headers) lines.push(h, '\r\n')
  lines.push('\r\n')
  return Buffer.concat(lines.map((l) => (typeof l === 'string' ? Buffer.from(l, 'latin1') : l)))
}

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const

/**
 * One client-to-server frame. `declaredLength` puts a length in the header other than the
 * payload's (an oversize frame can be announced without sending its body); `mask: false` and
 * `rsv` build frames the protocol forbids.
 */
export function wsFrame(opcode: number, payload: Buffer, opts: { fin?: boolean; mask?: boolean; rsv?: number; declaredLength?: number } = {}): Buffer {
  const len = opts.declaredLength ?? payload.length
  const mask = opts.mask ?? true
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)]
  const m = mask ? 0x80 : 0
  if (len < 126) head.push(m | len)
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff)
  else {
    head.push(m | 127)
    const big = Buffer.alloc(8)
    big.writeBigUInt64BE(BigInt(len))
    head.push(...big)
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload])
  const key = randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!
  return Buffer.concat([Buffer.from(head), key, body])
}
