import assert from 'node:assert/strict'

// The benches' charts are hand-written strings: a stray `&` in a title or an unclosed element
// would make a browser show an error instead of the chart. This checks what XML's
// well-formedness needs for the subset the charts use (elements, attributes, text; no
// comments, CDATA or processing instructions), without an XML parser dependency.

const NAME = '[A-Za-z_][\\w:.-]*'
const TAG = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}="[^"<]*")*)\\s*(/?)>`, 'y')
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y

/** Asserts that `text` is one well-formed `<svg>` element in the SVG namespace, and nothing else. */
export function assertWellFormedSvg(text: string): void {
  assert.match(
    text,
    /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[ >]/,
    'starts with <svg xmlns>',
  )
  const open: string[] = []
  let roots = 0
  let i = 0
  while (i < text.length) {
    const char = text[i]
    if (char === '<') {
      TAG.lastIndex = i
      const match = TAG.exec(text)
      assert.ok(match, `a malformed tag at ${i}: ${text.slice(i, i + 60)}`)
      const [whole, closing, name, attributes, selfClosing] = match
      checkEntities(attributes ?? '', i)
      if (closing === '/') {
        assert.equal(open.pop(), name, `</${name}> at ${i} closes what is open`)
      } else {
        if (open.length === 0) roots++
        if (selfClosing !== '/') open.push(name as string)
      }
      i += whole.length
    } else {
      assert.ok(open.length > 0 || /\s/.test(char as string), `text outside the root at ${i}`)
      if (char === '&') {
        ENTITY.lastIndex = i
        assert.ok(ENTITY.test(text), `a bare & at ${i}: ${text.slice(i, i + 20)}`)
      }
      assert.notEqual(char, '>', `a bare > at ${i} (legal, but never written by the charts)`)
      i++
    }
  }
  assert.deepEqual(open, [], 'every element is closed')
  assert.equal(roots, 1, 'one root element')
}

function checkEntities(attributes: string, at: number): void {
  for (let j = attributes.indexOf('&'); j !== -1; j = attributes.indexOf('&', j + 1)) {
    ENTITY.lastIndex = j
    assert.ok(ENTITY.test(attributes), `a bare & in the attributes of the tag at ${at}`)
  }
}
