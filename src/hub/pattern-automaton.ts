/**
 * A Thompson NFA over Unicode code points, simulated one state set at a time (no backtracking),
 * for URL Pattern components. Each input code point costs at most one visit per state and one per
 * move, so a match is O(input length × (states + moves)), and every visit is counted against a
 * {@link MatchBudget}: when it runs out, the match is abandoned and answers `false`.
 *
 * @module
 */

/** Highest Unicode code point. */
export const MAX_CODE_POINT = 0x10ffff

/**
 * A set of code points: sorted, disjoint, non-adjacent inclusive ranges `[lo0, hi0, lo1, hi1, …]`.
 */
export type CodePointSet = readonly number[]

/** The set of the code points `lo` to `hi`, inclusive. */
export function range(lo: number, hi = lo): CodePointSet {
  return [lo, hi]
}

/** The union of `sets`. */
export function union(...sets: readonly CodePointSet[]): CodePointSet {
  const pairs: [number, number][] = []
  for (const set of sets) {
    for (let i = 0; i < set.length; i += 2) pairs.push([set[i] as number, set[i + 1] as number])
  }
  pairs.sort((a, b) => a[0] - b[0])
  const out: number[] = []
  for (const [lo, hi] of pairs) {
    const last = out.length - 1
    if (last > 0 && lo <= (out[last] as number) + 1) out[last] = Math.max(out[last] as number, hi)
    else out.push(lo, hi)
  }
  return out
}

/** Every code point not in `set`. */
export function complement(set: CodePointSet): CodePointSet {
  const out: number[] = []
  let next = 0
  for (let i = 0; i < set.length; i += 2) {
    if ((set[i] as number) > next) out.push(next, (set[i] as number) - 1)
    next = (set[i + 1] as number) + 1
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT)
  return out
}

function contains(set: CodePointSet, c: number): boolean {
  for (let i = 0; i < set.length; i += 2) {
    if (c < (set[i] as number)) return false
    if (c <= (set[i + 1] as number)) return true
  }
  return false
}

/** Thrown by {@link NfaBuilder.state} past its state bound; callers turn it into a refusal. */
export class AutomatonTooLargeError extends Error {}

/**
 * What a hub may still spend on matching, in automaton steps (a state entered or a move tried).
 * A match subtracts what it spends; one that would take `remaining` below zero stops at once,
 * answers `false` and sets `exhausted` ([spec] Mercure 1.0: "When the limit is hit, the pattern
 * MUST be treated as not matching and the evaluation MUST be aborted").
 */
export interface MatchBudget {
  /** Steps left. */
  remaining: number
  /** Whether some match ran out of steps. */
  exhausted: boolean
}

/** Builds an NFA: states are numbers, moves are (from, set, to) with `set` -1 for an ε-move. */
export class NfaBuilder {
  readonly maxStates: number
  stateCount = 0
  readonly moves: number[] = []
  readonly sets: CodePointSet[] = []

  constructor(maxStates: number) {
    this.maxStates = maxStates
  }

  /** A new state. @throws {AutomatonTooLargeError} past `maxStates`. */
  state(): number {
    if (this.stateCount >= this.maxStates) throw new AutomatonTooLargeError()
    return this.stateCount++
  }

  epsilon(from: number, to: number): void {
    this.moves.push(from, -1, to)
  }

  /** A move reading one code point of `set`, to `to` or a new state, which it returns. */
  edge(from: number, set: CodePointSet, to = this.state()): number {
    this.moves.push(from, this.sets.push(set) - 1, to)
    return to
  }

  /** `text`, code point by code point. */
  literal(from: number, text: string): number {
    let state = from
    for (const char of text) state = this.edge(state, range(char.codePointAt(0) as number))
    return state
  }
}

/** An NFA from `start` to `accept`, read from a builder. */
export class Nfa {
  /** States, moves: what one input code point may cost at most, in steps, is their sum. */
  readonly stateCount: number
  readonly moveCount: number
  readonly #accept: number
  readonly #sets: readonly CodePointSet[]
  /** Moves grouped by state: state s's are at `#first[s]` up to `#first[s + 1]`. */
  readonly #first: Int32Array
  readonly #set: Int32Array
  readonly #to: Int32Array
  readonly #initial: readonly number[]
  readonly #marks: Uint32Array
  #generation = 0

  constructor(builder: NfaBuilder, start: number, accept: number) {
    const { moves, stateCount } = builder
    this.stateCount = stateCount
    this.moveCount = moves.length / 3
    this.#accept = accept
    this.#sets = builder.sets
    const order = Array.from({ length: this.moveCount }, (_, m) => 3 * m)
    order.sort((a, b) => (moves[a] as number) - (moves[b] as number))
    this.#first = new Int32Array(stateCount + 1)
    for (const m of order) {
      const at = (moves[m] as number) + 1
      this.#first[at] = (this.#first[at] as number) + 1
    }
    for (let s = 0; s < stateCount; s++) {
      this.#first[s + 1] = (this.#first[s + 1] as number) + (this.#first[s] as number)
    }
    this.#set = Int32Array.from(order, (m) => moves[m + 1] as number)
    this.#to = Int32Array.from(order, (m) => moves[m + 2] as number)
    this.#marks = new Uint32Array(stateCount)
    const initial: number[] = []
    this.#close(start, initial, ++this.#generation)
    this.#initial = initial
  }

  /**
   * Whether the whole of `input` is read from start to accept, spending from `budget`; `false`
   * as soon as the budget would go below zero.
   */
  matches(input: string, budget: MatchBudget): boolean {
    let current: readonly number[] = this.#initial
    for (let i = 0; i < input.length; i++) {
      const c = input.codePointAt(i) as number
      if (c > 0xffff) i++
      // The work of this code point is bounded before it is done: every active state's moves.
      let cost = current.length
      for (const s of current) cost += (this.#first[s + 1] as number) - (this.#first[s] as number)
      if (!this.#spend(budget, cost)) return false
      const mark = ++this.#generation
      const next: number[] = []
      for (const s of current) {
        const end = this.#first[s + 1] as number
        for (let k = this.#first[s] as number; k < end; k++) {
          const set = this.#set[k] as number
          if (set !== -1 && contains(this.#sets[set] as CodePointSet, c)) {
            this.#close(this.#to[k] as number, next, mark)
          }
        }
      }
      if (next.length === 0) return false
      current = next
    }
    return current.includes(this.#accept)
  }

  #spend(budget: MatchBudget, cost: number): boolean {
    if (budget.remaining < cost) {
      budget.remaining = 0
      budget.exhausted = true
      return false
    }
    budget.remaining -= cost
    return true
  }

  /** Adds `seed` and what it reaches by ε-moves to `states`, each state once per `mark`. */
  #close(seed: number, states: number[], mark: number): void {
    if (this.#marks[seed] === mark) return
    this.#marks[seed] = mark
    const stack = [seed]
    while (stack.length > 0) {
      const s = stack.pop() as number
      states.push(s)
      const end = this.#first[s + 1] as number
      for (let k = this.#first[s] as number; k < end; k++) {
        const to = this.#to[k] as number
        if (this.#set[k] !== -1 || this.#marks[to] === mark) continue
        this.#marks[to] = mark
        stack.push(to)
      }
    }
  }
}
