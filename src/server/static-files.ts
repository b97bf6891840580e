import { readFile } from 'node:fs/promises'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NodeResponse } from './event-stream-response.ts'
import { PAGE_SECURITY_HEADERS } from './security-headers.ts'

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
}

/** The `web/` folder shipped with the package (beside `src/` and `dist/`). */
export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url))

/**
 * Serves a file below `root` for a URL path. A path ending in `/` serves its `index.html`.
 * Returns `false` (nothing written) when there is no such file, so the caller can answer 404.
 * Paths that climb out of `root` (`..`, encoded or not) are refused: directory traversal.
 */
export async function serveStatic(
  res: NodeResponse,
  urlPath: string,
  extraHeaders: Readonly<Record<string, string>> = {},
  root: string = WEB_ROOT,
): Promise<boolean> {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return false
  }
  if (decoded.includes('\0')) return false
  const relative = decoded.endsWith('/') ? `${decoded}index.html` : decoded
  const file = resolve(root, `.${relative}`)
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) return false
  const type = CONTENT_TYPES[extname(file)]
  if (type === undefined) return false
  let body: Buffer
  try {
    body = await readFile(file)
  } catch {
    return false
  }
  res.writeHead(200, {
    ...PAGE_SECURITY_HEADERS,
    ...extraHeaders,
    'content-type': type,
    'content-length': body.byteLength,
    'cache-control': 'no-cache',
  })
  res.end(body)
  return true
}
