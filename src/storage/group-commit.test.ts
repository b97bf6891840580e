import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CommitOutcomes, GroupCommit, type GroupCommitOptions } from './group-commit.ts'

/** A group commit whose flushes run when the test says, recording each batch. */
function manual(
  options: Partial<GroupCommitOptions<number, string>> = {},
  commit: (batch: readonly number[]) => CommitOutcomes<string> | Promise<CommitOutcomes<string>> = (
    batch,
  ) => batch.map((n) => `#${n}`),
) {
  const flushes: Array<() => void> = []
  const batches: number[][] = []
  const commits = new GroupCommit<number, string>({
    schedule: (flush) => flushes.push(flush),
    ...options,
    commit: (batch) => {
      batches.push([...batch])
      return commit(batch)
    },
  })
  const turn = (): void => {
    for (const flush of flushes.splice(0)) flush()
  }
  return { commits, batches, flushes, turn }
}

describe('GroupCommit', () => {
  it('commits what was added before the flush as one batch, and settles each with its outcome', async () => {
    const { commits, batches, flushes, turn } = manual()
    const added = [commits.add(1), commits.add(2), commits.add(3)]
    assert.equal(flushes.length, 1, 'one flush scheduled for the batch')
    assert.equal(commits.waiting, 3)
    turn()
    assert.deepEqual(await Promise.all(added), ['#1', '#2', '#3'])
    assert.deepEqual(batches, [[1, 2, 3]])
    assert.equal(commits.waiting, 0)
  })

  it('fails only the item whose outcome is an error', async () => {
    const { commits, turn } = manual({}, (batch) =>
      batch.map((n) => (n === 2 ? new Error('taken') : `#${n}`)),
    )
    const added = [commits.add(1), commits.add(2), commits.add(3)]
    turn()
    const settled = await Promise.allSettled(added)
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    )
  })

  it('fails the whole batch when the commit throws or rejects', async () => {
    const failure = new Error('disk full')
    for (const commit of [
      (): never => {
        throw failure
      },
      () => Promise.reject(failure),
    ]) {
      const { commits, turn } = manual({}, commit)
      const added = [commits.add(1), commits.add(2)]
      turn()
      for (const result of await Promise.allSettled(added)) {
        assert.deepEqual(result, { status: 'rejected', reason: failure })
      }
    }
  })

  it('waits for an asynchronous commit before settling', async () => {
    let answer: ((outcomes: CommitOutcomes<string>) => void) | undefined
    const { commits, turn } = manual(
      {},
      () =>
        new Promise((resolve) => {
          answer = resolve
        }),
    )
    let settled = false
    const added = commits.add(7).then((result) => {
      settled = true
      return result
    })
    turn()
    await Promise.resolve()
    assert.equal(settled, false)
    answer?.(['seven'])
    assert.equal(await added, 'seven')
  })

  it('bounds a batch by items and by weight, the last item taking it past the weight', async () => {
    const { commits, batches, turn } = manual({
      maxItems: 3,
      weight: (n) => n,
      maxWeight: 10,
    })
    const added = [1, 1, 1, 1, 8, 5, 20, 1].map((n) => commits.add(n))
    turn()
    await Promise.all(added)
    assert.deepEqual(batches, [[1, 1, 1], [1, 8, 5], [20], [1]])
  })

  it('commits every batch in one flush, or one batch a turn with batchesPerTurn "one"', async () => {
    const all = manual({ maxItems: 2 })
    const allAdded = [1, 2, 3, 4, 5].map((n) => all.commits.add(n))
    all.turn()
    assert.deepEqual(all.batches, [[1, 2], [3, 4], [5]])
    await Promise.all(allAdded)

    const one = manual({ maxItems: 2, batchesPerTurn: 'one' })
    const oneAdded = [1, 2, 3, 4, 5].map((n) => one.commits.add(n))
    one.turn()
    assert.deepEqual(one.batches, [[1, 2]])
    assert.equal(one.flushes.length, 1, 'the rest is scheduled for the next turn')
    one.commits.add(6)
    assert.equal(one.flushes.length, 1, 'an item added meanwhile joins the scheduled flush')
    one.turn()
    one.turn()
    assert.deepEqual(one.batches, [
      [1, 2],
      [3, 4],
      [5, 6],
    ])
    await Promise.all(oneAdded)
  })

  it('drains every batch at once, whatever the turn, and then flushes nothing', async () => {
    const { commits, batches, turn } = manual({ maxItems: 2, batchesPerTurn: 'one' })
    const added = [1, 2, 3].map((n) => commits.add(n))
    commits.drain()
    assert.deepEqual(batches, [[1, 2], [3]])
    turn()
    assert.equal(batches.length, 2)
    assert.deepEqual(await Promise.all(added), ['#1', '#2', '#3'])
  })
})
