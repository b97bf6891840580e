import { readFile } from 'node:fs/promises'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type NodeResponse, sendText } from '../node/index.ts'
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

/** Errors of `readFile` that mean "no such file": the answer is 404. */
const NOT_FOUND = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG'])

/** The `web/` folder shipped with the package (beside `src/` and `dist/`). */
export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url))

/**
 * Serves a file below `root` for a URL path. A path ending in `/` serves its `index.html`.
 * Returns `false` (nothing written) when there is no such file, so the caller can answer 404.
 * Paths that climb out of `root` (`..`, encoded or not) are refused: directory traversal.
 * A file that exists but cannot be read now (out of file descriptors, EMFILE; an I/O error) is
 * answered `503` with `Retry-After`: a 404 would tell browsers and caches it is gone.
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
  } catch (error) {
    if (NOT_FOUND.has((error as NodeJS.ErrnoException).code ?? '')) return false
    sendText(res, 503, 'This file cannot be read right now; retry shortly.\n', {
      'retry-after': '1',
    })
    return true
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
