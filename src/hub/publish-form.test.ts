import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isPublishFormError, parsePublishForm } from './publish-form.ts'
import { GENERATED_ID, type Update } from './update.ts'

function ok(body: string): Update {
  const result = parsePublishForm(body)
  if (isPublishFormError(result)) assert.fail(result.message)
  return result
}

function error(body: string, limits = {}): string {
  const result = parsePublishForm(body, limits)
  assert.ok(isPublishFormError(result), `expected an error for ${body}`)
  assert.equal(result.status, 400)
  return result.message
}

describe('parsePublishForm', () => {
  it('reads every field, the first topic canonical and the others alternates', () => {
    const update = ok(
      'topic=https%3A%2F%2Fexample.com%2Fbooks%2F1&topic=urn%3Aalt&data=%7B%22a%22%3A1%7D&private=on&id=urn%3Aid%3A1&type=book&retry=3000',
    )
    assert.deepEqual(update, {
      id: 'urn:id:1',
      topics: ['https://example.com/books/1', 'urn:alt'],
      data: '{"a":1}',
      private: true,
      type: 'book',
      retry: 3000,
    })
  })

  it('keeps data exactly, with empty lines, leading spaces and + decoded as space', () => {
    assert.equal(ok('topic=t&data=%20%20a%0A%0Ab+c%0D%0A').data, '  a\n\nb c\r\n')
  })

  it('makes an update private by the presence of "private" alone, even empty', () => {
    assert.equal(ok('topic=t&private=').private, true)
    assert.equal(ok('topic=t&private').private, true)
    assert.equal(ok('topic=t').private, false)
  })

  it('generates a urn:uuid UUIDv7 id when none is given', () => {
    assert.match(
      ok('topic=t').id,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    assert.match(ok('topic=t&id=').id, /^urn:uuid:/)
  })

  it("marks an id it generated as the hub's own (GENERATED_ID), and a publisher's id not", () => {
    assert.equal(ok('topic=t')[GENERATED_ID], true)
    assert.equal(ok('topic=t&id=')[GENERATED_ID], true)
    assert.equal(ok('topic=t&id=urn%3Auuid%3Ax')[GENERATED_ID], undefined)
    // A form field cannot set it: fields are strings by name, the mark a symbol.
    assert.equal(ok('topic=t&id=a&ssehub.generatedId=true')[GENERATED_ID], undefined)
    assert.equal(ok('topic=t&id=a&Symbol(ssehub.generatedId)=1')[GENERATED_ID], undefined)
  })

  it('refuses a missing, empty, oversized or control-character topic, and too many topics', () => {
    assert.match(error('data=x'), /Missing "topic"/)
    assert.match(error('topic='), /empty/)
    assert.match(error('topic=a%0Ab'), /control character/)
    assert.match(error(`topic=${'x'.repeat(9000)}`), /longer than 8192/)
    assert.match(
      error('topic=a&topic=b&topic=c', { maxTopics: 2 }),
      /Too many "topic" parameters: 3, at most 2/,
    )
  })

  it('refuses CR, LF or NUL in id and type, so no SSE field can be injected', () => {
    for (const bad of ['%0D', '%0A', '%00']) {
      assert.match(error(`topic=t&id=a${bad}data:x`), /"id" must not contain CR, LF or NUL/)
      assert.match(error(`topic=t&type=a${bad}id:x`), /"type" must not contain CR, LF or NUL/)
    }
  })

  it('refuses reserved ids', () => {
    assert.match(error('topic=t&id=%23frag'), /must not start with "#"/)
    assert.match(error('topic=t&id=earliest'), /reserved/)
  })

  it('refuses a retry that is not a whole number of milliseconds', () => {
    for (const bad of ['-1', '1.5', 'abc', '1e3', '99999999999', ' 1']) {
      assert.match(
        error(`topic=t&retry=${encodeURIComponent(bad)}`),
        /"retry" must be a whole number/,
      )
    }
    assert.equal(ok('topic=t&retry=').retry, undefined)
  })
})
