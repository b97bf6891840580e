import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Update } from '../hub/update.ts'
import { openSqliteConnection } from './sqlite-open.ts'
import { fromRow, type Row, rowColumns, toParams } from './sqlite-rows.ts'

const update: Update = {
  id: 'nul',
  topics: ['urn:a'],
  data: 'before \u0000 after, é 🎉',
  private: true,
  type: 'message',
  retry: 10,
}

const SCHEMA = `CREATE TABLE updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,
  topics TEXT NOT NULL, data TEXT NOT NULL, private INTEGER NOT NULL, type TEXT, retry INTEGER,
  time INTEGER NOT NULL)`

describe('sqlite-rows', () => {
  // Reading data as bytes is what node:sqlite before Node 24.16 and 26.1 needs; it must give the
  // same update on any driver, so that the Node CI runs covers it too.
  for (const textKeepsNul of [true, false]) {
    const how = textKeepsNul ? 'as text' : 'as bytes'
    it(`reads back data holding a NUL whole ${how}, where the driver reads text whole`, (t) => {
      const db = openSqliteConnection(':memory:', 'auto')
      try {
        db.exec(SCHEMA)
        const params = toParams(update)
        db.prepare('INSERT INTO updates VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)').run(...params)
        const stored = db.prepare<[], { hex: string }>('SELECT hex(data) AS hex FROM updates').get()
        assert.equal(stored?.hex, Buffer.from(update.data).toString('hex').toUpperCase())
        if (textKeepsNul && !db.textKeepsNul) {
          t.diagnostic(`${db.driver} on Node ${process.version} cuts text at a NUL`)
          return
        }
        const row = db.prepare<[], Row>(`SELECT ${rowColumns(textKeepsNul)} FROM updates`).get()
        assert.ok(row !== undefined)
        assert.equal(fromRow(row).data, update.data)
        // The store recognises a retry by comparing data in SQL: byte for byte, past the NUL.
        const same = db.prepare<[string], { n: number }>(
          'SELECT count(*) AS n FROM updates WHERE data = ?',
        )
        assert.equal(same.get(update.data)?.n, 1)
        assert.equal(same.get('before ')?.n, 0)
        assert.equal(same.get('before \u0000 after')?.n, 0)
      } finally {
        db.close()
      }
    })
  }

  it('reads data with no NUL as text when it reads data holding one as bytes', () => {
    const db = openSqliteConnection(':memory:', 'auto')
    try {
      db.exec(SCHEMA)
      db.prepare('INSERT INTO updates VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)').run(
        ...toParams({ ...update, data: 'plain' }),
      )
      const row = db.prepare<[], Row>(`SELECT ${rowColumns(false)} FROM updates`).get()
      assert.equal(row?.data, 'plain')
    } finally {
      db.close()
    }
  })
})
