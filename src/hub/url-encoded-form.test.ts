import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type FormFields, parseUrlEncodedForm } from './url-encoded-form.ts'

function fields(body: Uint8Array | string): FormFields {
  const parsed = parseUrlEncodedForm(body)
  if (!parsed.ok) assert.fail(parsed.message)
  return parsed.value
}

function refusal(body: Uint8Array | string): string {
  const parsed = parseUrlEncodedForm(body)
  assert.equal(parsed.ok, false, `expected a refusal for ${String(body)}`)
  return parsed.ok ? '' : parsed.message
}

describe('parseUrlEncodedForm', () => {
  it('reads what URLSearchParams reads from a well-formed body', () => {
    const bodies = [
      'topic=a&topic=b&data=x+y%2Bz%20%26%3D&private',
      '&&a=1&&b==2&=3&c',
      'data=%E2%82%AC%F0%9F%98%80+caf%C3%A9&raw=€😀',
      '%EF%BB%BFbom=1',
      '',
    ]
    for (const body of bodies) {
      const expected = new Map<string, string[]>()
      for (const [name, value] of new URLSearchParams(body)) {
        expected.set(name, [...(expected.get(name) ?? []), value])
      }
      assert.deepEqual(fields(body), expected, body)
      assert.deepEqual(fields(Buffer.from(body)), expected, body)
    }
  })

  it('refuses a "%" that starts no escape, naming the field', () => {
    for (const body of ['topic=t&data=%zz', 'topic=t&data=100%', 'topic=t&data=%4', 'data=%%41']) {
      assert.match(refusal(body), /^The "data" field has a "%" that is not followed by two hex/)
    }
  })

  it('refuses escaped bytes that are not UTF-8: truncated, overlong, surrogates, stray', () => {
    for (const value of ['%E0%A4', '%C0%AF', '%ED%A0%80', '%FF', '%80', '%F4%90%80%80']) {
      assert.match(
        refusal(`topic=t&id=${value}`),
        /^The "id" field has percent-encoded bytes that are not UTF-8/,
      )
    }
  })

  it('refuses raw bytes that are not UTF-8, naming the field', () => {
    const body = Buffer.concat([
      Buffer.from('topic=t&data=caf'),
      Buffer.from([0xe9]),
      Buffer.from('&x=1'),
    ])
    assert.match(refusal(body), /^The "data" field has bytes that are not UTF-8/)
    assert.match(
      refusal(Buffer.from([0x74, 0xff, 0x3d, 0x31])),
      /^A field name has bytes that are not UTF-8/,
    )
  })

  it('refuses a broken field name, quoting it', () => {
    assert.match(refusal('top%zzic=t'), /^The field name "top%zzic" has a "%"/)
  })

  it('quotes a field name safely: no CR or LF reaches the message', () => {
    assert.doesNotMatch(refusal('a%0D%0Ab=%zz'), /[\r\n]/)
  })

  it('decodes as decodeURIComponent does, refusing where it throws, for any mix of escapes', () => {
    // The reference: the WHATWG split, then `+` as a space and decodeURIComponent on each part.
    const reference = (body: string): Map<string, string[]> | 'refused' => {
      const decode = (raw: string): string | null => {
        try {
          return decodeURIComponent(raw.replaceAll('+', ' '))
        } catch {
          return null
        }
      }
      const expected = new Map<string, string[]>()
      for (const sequence of body.split('&')) {
        if (sequence === '') continue
        const equals = sequence.indexOf('=')
        const name = decode(equals === -1 ? sequence : sequence.slice(0, equals))
        const value = decode(equals === -1 ? '' : sequence.slice(equals + 1))
        if (name === null || value === null) return 'refused'
        expected.set(name, [...(expected.get(name) ?? []), value])
      }
      return expected
    }
    // ASCII escapes (decoded in place), escapes of UTF-8 lead and continuation bytes, broken
    // escapes, and the separators, in any order.
    const piece = fc.constantFrom(
      ...['a', 'Z', '0', '+', '&', '=', '%', '%2F', '%3a', '%00', '%7F', '%7f', '%41', '%2B'],
      ...['%C3', '%A9', '%E2', '%82', '%AC', '%F0', '%9F', '%98', '%80', '%FF', '%C0', '%ED'],
      ...['%zz', '%4', '%%', 'é', '€', '😀', '\ufeff'],
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const body = pieces.join('')
        const parsed = parseUrlEncodedForm(body)
        const expected = reference(body)
        if (expected === 'refused') assert.equal(parsed.ok, false, body)
        else assert.deepEqual(parsed.ok ? parsed.value : parsed.message, expected, body)
      }),
      { numRuns: 5000 },
    )
  })

  it('decodes bodies of 1 MiB made of escapes and pluses, past the escapes it decodes by hand', () => {
    const size = 1024 * 1024
    const cases: Array<[string, string, string]> = [
      ['%41', 'A', 'ASCII escapes'],
      ['+', ' ', 'pluses'],
      ['a+%2F', 'a /', 'a mix'],
      ['%41%C3%A9', 'Aé', 'escapes past 0x7F among ASCII ones'],
    ]
    for (const [piece, decoded, what] of cases) {
      const count = Math.floor((size - 'data='.length) / piece.length)
      const parsed = fields(Buffer.from(`data=${piece.repeat(count)}`))
      assert.equal(parsed.get('data')?.[0], decoded.repeat(count), what)
    }
    // At the sixteen escapes decoded by hand and past them: the next one, ASCII or UTF-8 or broken.
    for (const escapes of [15, 16, 17]) {
      const head = '%41'.repeat(escapes)
      assert.equal(fields(`data=${head}%42`).get('data')?.[0], `${'A'.repeat(escapes)}B`)
      assert.equal(fields(`data=${head}%C3%A9`).get('data')?.[0], `${'A'.repeat(escapes)}é`)
      assert.match(refusal(`data=${head}%4`), /has a "%" that is not followed/)
      assert.match(refusal(`data=${head}%C3`), /not UTF-8/)
    }
    // A broken escape far past the first sixteen is still refused.
    assert.match(refusal(`data=${'%41'.repeat(100_000)}%4`), /has a "%" that is not followed/)
    assert.match(refusal(`data=${'%41'.repeat(100_000)}%C3`), /not UTF-8/)
  })
})
