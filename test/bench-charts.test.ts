import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { lineChart, niceCeiling } from '../bench/load/line-chart.ts'
import { chartPath, soakChart } from '../bench/soak/charts.ts'
import { parseSoakArgs, type SoakOptions } from '../bench/soak/options.ts'
import { notRun } from '../bench/soak/verdict.ts'
import { assertWellFormedSvg } from './helpers/svg-well-formed.ts'

// The time-series charts of the soak (bench/load/line-chart.ts, bench/soak/charts.ts), from
// fixed figures: the SVG must be well-formed, draw what it is given and leave gaps where a
// value is missing (a node down during a restart).

describe('niceCeiling', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    assert.deepEqual(
      [0, 0.3, 1, 7, 84, 101, 1010, 4999].map(niceCeiling),
      [1, 0.5, 1, 10, 100, 200, 2000, 5000],
    )
  })
})

describe('lineChart', () => {
  const at = [-2, -1, 0, 1, 2, 3, 4]
  const svg = lineChart({
    title: 'RSS & <friends>',
    footer: 'a footer',
    at,
    panels: [
      {
        title: 'RSS',
        unit: 'MiB',
        series: [
          { name: 'node-a', color: '#1d4ed8', values: [100, 101, 102, null, 99, 100, 101] },
          { name: 'node-b', color: '#f59e0b', values: at.map(() => 50), dashed: true },
        ],
      },
    ],
    spans: [{ from: -2, to: 0, label: 'warm-up' }],
    markers: [{ at: 1, label: 'KILL node-a' }],
  })

  it('is a well-formed SVG document with its text escaped', () => {
    assertWellFormedSvg(svg)
    assert.match(svg, /RSS &amp; &lt;friends&gt;/)
  })

  it('lifts the pen over a missing value, and dashes what is asked', () => {
    const paths = [...svg.matchAll(/<path d="([^"]+)"[^>]*>/g)]
    assert.equal(paths.length, 2)
    const [a, b] = paths.map((match) => match[1] as string)
    assert.equal(a?.match(/M/g)?.length, 2, 'node-a: two runs around its gap')
    assert.equal(a?.match(/L/g)?.length, 4)
    assert.equal(b?.match(/M/g)?.length, 1)
    assert.match(paths[1]?.[0] as string, /stroke-dasharray/)
  })

  it('shades spans, marks moments, and scales the y axis from 0 to a round ceiling', () => {
    assert.match(svg, /<rect [^>]*fill="#f3f4f6"\/>/)
    assert.match(svg, />warm-up</)
    assert.match(svg, />KILL node-a</)
    assert.match(svg, />200</, 'a ceiling of 200 MiB for values up to 102')
    assert.match(svg, />−0:02</, 'warm-up times are negative')
  })
})

describe('soakChart', () => {
  const parsed = parseSoakArgs(['--seconds', '3', '--seed', '7'])
  assert.ok(!parsed.help)
  const options: SoakOptions = parsed.options

  it('charts publishes, deliveries, latency and RSS per node, with events marked', () => {
    const result = {
      ...notRun('redis', 'skip', ''),
      status: 'pass' as const,
      timeline: {
        stepSeconds: 1,
        loadSeconds: 3,
        at: [1, 2, 3, 4],
        publishesPerSecond: [20, 84, 20, 0],
        deliveriesPerSecond: [50, 250, 170, 30],
        latencyP50Ms: [5, 58, null, 48],
        latencyP99Ms: [68, 201, null, 1010],
        rssMiB: { 'redis-a': [100, null, 98, 99], 'redis-b': [101, 102, 103, 104] },
        events: [{ at: 2, what: 'KILL redis-a' }],
      },
    }
    const svg = soakChart(result, options, new Date('2026-12-06T12:00:00Z'))
    assertWellFormedSvg(svg)
    assert.match(svg, /Soak, redis store: pass, 3 s of load, seed 7/)
    for (const text of [
      'redis-a',
      'redis-b',
      'p99',
      'p50',
      'KILL redis-a',
      '2026-12-06 12:00 UTC',
    ]) {
      assert.ok(svg.includes(`>${text}<`) || svg.includes(text), text)
    }
    assert.equal([...svg.matchAll(/<path /g)].length, 6, 'one line per series')
  })

  it('is written beside the JSON, named after the store', () => {
    assert.equal(chartPath('/tmp/soak.json', 'sqlite'), '/tmp/soak-sqlite.svg')
    assert.equal(chartPath('out/run', 'memory'), 'out/run-memory.svg')
  })
})
