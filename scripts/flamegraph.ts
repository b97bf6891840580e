// A .cpuprofile (from `node --cpu-prof`) as a flame graph in SVG, with no dependency: the root at
// the bottom, each frame as wide as the samples under it, frames under 0.2 % of the samples left
// out. Frames are coloured by where their code lives (ssehub, node_modules, Node's own, V8/GC).
//
//   node --import tsx scripts/flamegraph.ts <profile.cpuprofile> <out.svg> [title]

import { readFileSync, writeFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface Frame {
  name: string
  kind: 'ssehub' | 'deps' | 'node' | 'v8'
  self: number
  total: number
  children: Map<string, Frame>
}

const [input, output, title = 'CPU profile'] = process.argv.slice(2)
if (input === undefined || output === undefined) {
  console.error('usage: flamegraph.ts <profile.cpuprofile> <out.svg> [title]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(input, 'utf8')) as { nodes: ProfileNode[] }
const byId = new Map(profile.nodes.map((node) => [node.id, node]))

function kindOf(url: string, name: string): Frame['kind'] {
  if (url.includes('node_modules')) return 'deps'
  if (url.includes('/dist/') || url.includes('/src/')) return 'ssehub'
  if (url.startsWith('node:')) return 'node'
  return name.startsWith('(') ? 'v8' : 'node'
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  const file =
    url === '' ? '' : ` ${url.replace(/^.*\/(dist|src|node_modules)\//, '$1/')}:${lineNumber + 1}`
  return `${functionName === '' ? '(anonymous)' : functionName}${file}`
}

// Merged by label along each path, so one function called from one place is one frame.
function build(node: ProfileNode, into: Frame): number {
  let total = node.hitCount ?? 0
  into.self += total
  for (const childId of node.children ?? []) {
    const child = byId.get(childId)
    if (child === undefined || child.callFrame.functionName === '(program)') continue
    const name = label(child)
    let frame = into.children.get(name)
    if (frame === undefined) {
      frame = {
        name,
        kind: kindOf(child.callFrame.url, name),
        self: 0,
        total: 0,
        children: new Map(),
      }
      into.children.set(name, frame)
    }
    const sub = build(child, frame)
    frame.total += sub
    total += sub
  }
  return total
}

const root: Frame = { name: 'all', kind: 'v8', self: 0, total: 0, children: new Map() }
const first = profile.nodes[0]
if (first === undefined) throw new Error('an empty profile')
root.total = build(first, root)
root.self = 0

const WIDTH = 1600
const ROW = 16
const COLOURS = { ssehub: '#e8743b', deps: '#c9b037', node: '#5b8ff9', v8: '#9a9a9a' }
const minSamples = root.total * 0.002
let depth = 0
const rects: string[] = []
const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function draw(frame: Frame, x: number, level: number): void {
  depth = Math.max(depth, level)
  const width = (frame.total / root.total) * WIDTH
  const percent = ((frame.total / root.total) * 100).toFixed(1)
  const text = width > 40 ? xml(frame.name).slice(0, Math.floor(width / 6.5)) : ''
  rects.push(
    `<g><title>${xml(frame.name)} (${percent} %)</title><rect x="${x.toFixed(1)}" y="{Y${level}}" width="${Math.max(width - 0.5, 0.5).toFixed(1)}" height="${ROW - 1}" fill="${COLOURS[frame.kind]}"/>` +
      `<text x="${(x + 3).toFixed(1)}" y="{T${level}}">${text}</text></g>`,
  )
  let offset = x
  const children = [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))
  for (const child of children) {
    if (child.total >= minSamples) draw(child, offset, level + 1)
    offset += (child.total / root.total) * WIDTH
  }
}
draw(root, 0, 0)
const height = (depth + 1) * ROW + 40
const body = rects
  .join('\n')
  .replace(/\{Y(\d+)\}/g, (_, level: string) => String(height - 10 - (Number(level) + 1) * ROW))
  .replace(/\{T(\d+)\}/g, (_, level: string) => String(height - 10 - Number(level) * ROW - 4))
writeFileSync(
  output,
  `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">
<title>${xml(title)}</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="4" y="16" font-size="14">${xml(title)} — ${root.total} samples; orange ssehub, yellow dependencies, blue Node, grey V8 and GC</text>
${body}
</svg>
`,
)
console.log(`${output}: ${root.total} samples, ${depth + 1} levels`)
