import type { OutgoingHttpHeaders } from 'node:http'
import type { NodeResponse } from './event-stream-response.ts'

/** Answers with a short plain-text body: the shape of every error ssehub gives over HTTP. */
export function sendText(
  res: NodeResponse,
  status: number,
  text: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const body = Buffer.from(text)
  res.writeHead(status, {
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.byteLength,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  })
  res.end(body)
}
