import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkFormContentType } from './form-content-type.ts'

describe('checkFormContentType', () => {
  it('accepts the form type with no charset, or with UTF-8 under any of its spellings', () => {
    for (const header of [
      'application/x-www-form-urlencoded',
      'Application/X-WWW-Form-URLEncoded',
      'application/x-www-form-urlencoded; charset=UTF-8',
      'application/x-www-form-urlencoded;charset="utf-8"',
      'application/x-www-form-urlencoded; charset=utf8',
      'application/x-www-form-urlencoded; boundary=ignored',
    ]) {
      assert.equal(checkFormContentType(header), null, header)
    }
  })

  it('refuses another type, or none', () => {
    assert.match(checkFormContentType('application/json') ?? '', /got "application\/json"/)
    assert.match(checkFormContentType(undefined) ?? '', /got none/)
  })

  it('refuses a charset other than UTF-8, naming it', () => {
    assert.match(
      checkFormContentType('application/x-www-form-urlencoded; charset=iso-8859-1') ?? '',
      /charset="iso-8859-1" is not supported/,
    )
    assert.match(
      checkFormContentType('application/x-www-form-urlencoded; charset="Windows-1252"') ?? '',
      /charset="Windows-1252"/,
    )
  })
})
