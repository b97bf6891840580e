import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
} from '../src/core/defaults.ts'
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from '../src/http/defaults.ts'
import {
  DEFAULT_MAX_ID_BYTES,
  DEFAULT_MAX_LIFETIME_MS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN,
  DEFAULT_MAX_TEMPLATE_STATES,
  DEFAULT_MAX_TEMPLATE_WORK,
  DEFAULT_SUBSCRIPTION_EVENT_RATE,
  DEFAULT_SUBSCRIPTION_EVENT_SELECTORS,
} from '../src/hub/defaults.ts'
import { loadConfig, SETTINGS, type ServerConfig } from '../src/server/config.ts'
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_HTTP2_MAX_STREAMS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_PORT,
  DEFAULT_PROTOCOLS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TRUSTED_ISSUER,
} from '../src/server/defaults.ts'
import { parseDuration } from '../src/server/duration.ts'
import type { SettingSpec } from '../src/server/setting-values.ts'
import { DEFAULT_MAX_UPDATES } from '../src/storage/defaults.ts'

// The defaults live once, in the `defaults.ts` of each floor; the settings table of
// `src/server/config.ts` writes them into `--help` and reads them as the CLI's fallbacks. These
// tests hold the docs to that table, so a default changed in code cannot leave a stale one in
// docs/hub.md or docs/security.md.

const SPECS: Readonly<Record<string, SettingSpec>> = SETTINGS

interface Row {
  readonly doc: string
  readonly line: number
  /** The flags named in the row's flag cell, without their dashes. */
  readonly flags: readonly string[]
  /** The row's default cell. */
  readonly value: string
}

/** The cells of a Markdown table row; a `|` inside backticks stays in its cell. */
function cells(line: string): string[] {
  const found: string[] = []
  let cell = ''
  let quoted = false
  for (const char of line.trim().slice(1)) {
    if (char === '`') quoted = !quoted
    if (char === '|' && !quoted) {
      found.push(cell.trim())
      cell = ''
    } else {
      cell += char
    }
  }
  return found
}

/** The rows of every table in `doc` whose header has a flag column and a default column. */
function defaultRows(doc: string, flagHeader: string): Row[] {
  const lines = readFileSync(new URL(`../${doc}`, import.meta.url), 'utf8').split('\n')
  const rows: Row[] = []
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!/^\|\s*-{3}/.test(lines[i + 1] ?? '')) continue
    const header = cells(lines[i] as string)
    const flagColumn = header.indexOf(flagHeader)
    const defaultColumn = header.indexOf('default')
    if (flagColumn === -1 || defaultColumn === -1) continue
    for (let j = i + 2; j < lines.length && lines[j]?.startsWith('|'); j++) {
      const row = cells(lines[j] as string)
      rows.push({
        doc,
        line: j + 1,
        flags: [...(row[flagColumn] ?? '').matchAll(/`--([a-z0-9-]+)`/g)].map(
          (m) => m[1] as string,
        ),
        value: row[defaultColumn] ?? '',
      })
    }
  }
  return rows
}

/** What a default cell starts with: a value in backticks, or a bare `none` or `off`. */
function leadingValue(cell: string): string | undefined {
  return /^`([^`]*)`/.exec(cell)?.[1] ?? /^(none|off)\b/.exec(cell)?.[1]
}

/** The default of a setting as the docs write it: its fallback text (`none` for empty). */
function documentedForm(spec: SettingSpec): string | undefined {
  if (spec.fallback !== undefined) return spec.fallback === '' ? 'none' : spec.fallback
  return spec.shown === undefined ? undefined : /^\w+/.exec(spec.shown)?.[0]
}

/** A default as a number where it is one (bytes, counts; durations in ms), else its text. */
function quantity(text: string): number | string {
  if (/^\d+$/.test(text)) return Number(text)
  if (/^\d+(?:ms|s|m|h)$/.test(text)) return parseDuration(text) as number
  return text
}

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  KiB: 1024,
  MiB: 1_048_576,
}

/** A default written for people (`10 s`, `1 MiB (1048576 bytes)`, `50/s`, `10 min`) as a quantity. */
function prose(cell: string): number | string | undefined {
  const leading = leadingValue(cell)
  if (leading !== undefined) return quantity(leading)
  const match = /^(\d+)(?: (ms|s|min|h|KiB|MiB)\b)?/.exec(cell)
  if (match === null) return undefined
  return Number(match[1]) * (match[2] === undefined ? 1 : (UNITS[match[2]] as number))
}

function specOf(row: Row, flag: string): SettingSpec {
  const spec = SPECS[flag]
  assert.ok(spec, `${row.doc}:${row.line} names --${flag}, which is no setting`)
  return spec
}

describe('the configuration table of docs/hub.md', () => {
  const rows = defaultRows('docs/hub.md', 'flag')

  it('lists every setting of the command line', () => {
    const documented = new Set(rows.flatMap((row) => row.flags))
    const missing = Object.keys(SPECS).filter((flag) => !documented.has(flag))
    assert.deepEqual(missing, [], 'settings missing from docs/hub.md')
  })

  it('gives each setting the default the code uses', () => {
    let checked = 0
    for (const row of rows) {
      if (row.flags.length !== 1) continue
      const flag = row.flags[0] as string
      const expected = documentedForm(specOf(row, flag))
      const written = leadingValue(row.value)
      if (expected === undefined || written === undefined) continue
      assert.equal(written, expected, `docs/hub.md:${row.line}: the default of --${flag}`)
      checked++
    }
    assert.ok(checked >= 30, `${checked} defaults checked`)
  })
})

describe('the limits table of docs/security.md', () => {
  it('gives each setting the default the code uses', () => {
    let checked = 0
    for (const row of defaultRows('docs/security.md', 'flag / env')) {
      if (row.flags.length !== 1) continue
      const flag = row.flags[0] as string
      // Its row is the chat's allowed hosts, which `--host` adds a name to: not its default.
      if (flag === 'host') continue
      const expected = documentedForm(specOf(row, flag))
      const written = prose(row.value)
      if (expected === undefined || written === undefined) continue
      assert.equal(written, quantity(expected), `docs/security.md:${row.line}: --${flag}`)
      checked++
    }
    assert.ok(checked >= 20, `${checked} defaults checked`)
  })
})

describe('the settings table of the CLI', () => {
  it('falls back on the defaults of each floor', () => {
    const loaded = loadConfig([], { SSEHUB_JWT_KEY: 'k'.repeat(40) })
    assert.equal(loaded.help, false)
    const config = (loaded as { config: ServerConfig }).config
    assert.deepEqual(
      {
        port: config.port,
        host: config.host,
        heartbeatMs: config.heartbeatMs,
        maxQueueBytes: config.maxQueueBytes,
        stallTimeoutMs: config.stallTimeoutMs,
        protocols: config.protocols.join(','),
        trustedIssuers: config.trustedIssuers,
        maxBodyBytes: config.maxBodyBytes,
        bodyTimeoutMs: config.bodyTimeoutMs,
        maxLifetimeMs: config.maxLifetimeMs,
        maxTemplateWork: config.maxTemplateWork,
        maxTemplateStates: config.maxTemplateStates,
        maxSubscriptionsPerAddress: config.maxSubscriptionsPerAddress,
        maxSubscriptionsPerToken: config.maxSubscriptionsPerToken,
        maxIdBytes: config.maxIdBytes,
        subscriptionEventRate: config.subscriptionEventRate,
        subscriptionEventSelectors: config.subscriptionEventSelectors,
        historySize: config.historySize,
        headersTimeoutMs: config.headersTimeoutMs,
        requestTimeoutMs: config.requestTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        http2MaxStreams: config.http2MaxStreams,
        maxHeaderBytes: config.maxHeaderBytes,
        logLevel: config.logLevel,
      },
      {
        port: DEFAULT_PORT,
        host: DEFAULT_HOST,
        heartbeatMs: DEFAULT_HEARTBEAT_MS,
        maxQueueBytes: DEFAULT_MAX_QUEUE_BYTES,
        stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS,
        protocols: DEFAULT_PROTOCOLS,
        trustedIssuers: [{ issuer: DEFAULT_TRUSTED_ISSUER }],
        maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
        bodyTimeoutMs: DEFAULT_BODY_TIMEOUT_MS,
        maxLifetimeMs: DEFAULT_MAX_LIFETIME_MS,
        maxTemplateWork: DEFAULT_MAX_TEMPLATE_WORK,
        maxTemplateStates: DEFAULT_MAX_TEMPLATE_STATES,
        maxSubscriptionsPerAddress: DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS,
        maxSubscriptionsPerToken: DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN,
        maxIdBytes: DEFAULT_MAX_ID_BYTES,
        subscriptionEventRate: DEFAULT_SUBSCRIPTION_EVENT_RATE,
        subscriptionEventSelectors: DEFAULT_SUBSCRIPTION_EVENT_SELECTORS,
        historySize: DEFAULT_MAX_UPDATES,
        headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
        http2MaxStreams: DEFAULT_HTTP2_MAX_STREAMS,
        maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
        logLevel: DEFAULT_LOG_LEVEL,
      },
    )
  })
})
