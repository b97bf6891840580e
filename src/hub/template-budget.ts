/**
 * What the URI Template selectors subscribed to cost the hub, and the hub-wide bounds on them.
 *
 * Each publish tests every distinct template whose literal prefix its topic starts with (see
 * `SubscriptionIndex`), and a test costs up to (topic length × automaton states) steps: a template
 * whose DFA outgrows its cache (`{a:10}{+b:10}…`, counted prefixes in a row) takes up to 1 µs per
 * topic character at 512 states. The per-subscription bound (`checkTemplateBudget`) does not
 * bound the sum: 2,000 connections of 24 templates each cut publishing a hundredfold. So the hub
 * also bounds, over all its subscriptions, the templates one topic can meet (their work on every
 * publish) and the templates it holds (their memory); identical templates count once.
 *
 * @module
 */

import type { UriTemplate } from './uri-template.ts'

/**
 * What a template costs beyond its automaton states, in states: the work of testing it at all
 * (a call, the prefix compared, the DFA entered) and its fixed memory (about 2 KiB compiled).
 */
export const TEMPLATE_BASE_COST = 32

/**
 * A template's cost against the hub's budgets, in automaton states: its states `s`, plus
 * `s² / 512`, plus {@link TEMPLATE_BASE_COST}. The square: a test walks the template's DFA, at a
 * few nanoseconds a topic character, as long as the DFA fits in its cache (`64 + s / 8` DFA
 * states); past that it steps through its NFA, at up to 1 µs a character for 500 states. Large
 * automata outgrow their cache far more easily (counted prefixes in a row, against topics whose
 * reserved characters fall in varying places: 23 µs a 46-character topic), so they cost up to
 * twice their states (1056 at 512), while ordinary ones cost little more than theirs
 * (`https://example.com/books/{id}`: 12 states, 44).
 */
export function templateCost(template: UriTemplate): number {
  const states = template.stateCount
  return states + Math.floor((states * states) / 512) + TEMPLATE_BASE_COST
}

/** A hub-wide template budget that a subscription would pass. */
export interface TemplateBudgetExcess {
  /** `work`: what one topic meets; `states`: what all templates held cost together. */
  readonly budget: 'work' | 'states'
  /** What the budget would hold with the subscription's new templates. */
  readonly needed: number
  /** The bound. */
  readonly limit: number
}

/** The message of a refusal for `excess` (for a 429), quoting no selector. */
export function describeTemplateExcess(excess: TemplateBudgetExcess): string {
  const what =
    excess.budget === 'work'
      ? 'the URI templates one topic is tested against'
      : 'all the URI templates subscribed to'
  return (
    `The hub is at its bound of template matching work: with this subscription, ${what} would ` +
    `cost ${excess.needed} automaton states, more than ${excess.limit}. Subscribe with exact ` +
    'topics or templates already in use, or retry once other subscriptions have closed.'
  )
}
