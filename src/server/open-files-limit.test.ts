import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { defaultMaxConnections, openFilesLimit } from './open-files-limit.ts'

describe('openFilesLimit and defaultMaxConnections', () => {
  it('reads the soft limit of open files, and null where it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-limits-'))
    const file = join(dir, 'limits')
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n',
    )
    assert.equal(openFilesLimit(file), 1024)
    assert.equal(openFilesLimit(join(dir, 'missing')), null)
    writeFileSync(
      file,
      'Max open files            unlimited            unlimited            files\n',
    )
    assert.equal(openFilesLimit(file), null)
    rmSync(dir, { recursive: true })
  })

  it('keeps the cap under the limit: 90 %, and a reserve for the store, logs and files', () => {
    assert.equal(defaultMaxConnections(20_000), 18_000)
    assert.equal(defaultMaxConnections(1024), 768)
    assert.equal(defaultMaxConnections(256), 192)
    assert.equal(defaultMaxConnections(null), null)
  })
})
