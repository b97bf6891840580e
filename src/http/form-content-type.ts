import { quote } from '../hub/auth-error.ts'

/** The labels of UTF-8 a form's `charset` may have (WHATWG Encoding lists `utf8` as one too). */
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8'])

/**
 * Checks the `Content-Type` of a publish: [spec] Mercure draft-07 §Publication, the body is
 * `application/x-www-form-urlencoded`, which is UTF-8 (WHATWG URL; the type defines no `charset`
 * parameter, so none means UTF-8). A `charset` naming another encoding is refused rather than
 * decoded as UTF-8 into replacement characters.
 *
 * @returns `null` when the publish may be read; otherwise the message of a 415.
 */
export function checkFormContentType(header: string | undefined): string | null {
  // What nearly every publisher sends: no split, trim or lower-casing per publish (issue #15).
  if (header === 'application/x-www-form-urlencoded') return null
  const [type = '', ...parameters] = (header ?? '').split(';')
  const essence = type.trim().toLowerCase()
  if (essence !== 'application/x-www-form-urlencoded') {
    return `Publish with Content-Type: application/x-www-form-urlencoded (got ${essence === '' ? 'none' : JSON.stringify(essence)}).`
  }
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=')
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue
    const value = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
    if (!UTF8_LABELS.has(value.toLowerCase())) {
      return `Publish the form in UTF-8: charset=${quote(value, 40)} is not supported. Encode it as UTF-8 and send charset=utf-8, or no charset.`
    }
  }
  return null
}
