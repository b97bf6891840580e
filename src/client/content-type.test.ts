import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEventStream } from './content-type.ts'

describe('isEventStream', () => {
  it('compares the MIME essence, ignoring parameters, case and whitespace', () => {
    for (const ok of [
      'text/event-stream',
      'text/event-stream;',
      'text/event-stream; charset=utf-8',
      'text/event-stream;charset=windows-1252',
      'Text/Event-Stream',
      ' text/event-stream ',
    ]) {
      assert.equal(isEventStream(ok), true, ok)
    }
  })

  it('refuses other types, a bogus one, and none', () => {
    for (const bad of ['text/x-bogus', 'x bogus', 'text/plain', 'text/event-streams', '', null]) {
      assert.equal(isEventStream(bad), false, String(bad))
    }
  })
})
