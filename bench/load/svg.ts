// The few pieces every hand-written chart of the benches shares: the document around the
// drawing (white background, sans-serif) and text escaping. No charting library: the charts are
// a handful of rects, lines and texts, diffable in review.

/** Escapes `&`, `<` and `>` for SVG text content. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Escapes text for a double-quoted attribute value. */
export function escapeAttribute(text: string): string {
  return escapeXml(text).replace(/"/g, '&quot;')
}

/** A standalone SVG document of `width` × `height` pixels on white, holding `parts`. */
export function svgDocument(width: number, height: number, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`
}
