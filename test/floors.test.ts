import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { importSpecifiers } from './helpers/import-specifiers.ts'

// The floors of the tree (DEVELOPERS.md, "Layout"), lowest first. A file may import its own
// area and the areas listed under `imports`, nothing else of ours: type-only imports and
// `import('…')` count too. Storage and the HTTP adapters share floor 2 but do not import each
// other: both implement or drive the hub, and only the composition puts them together.
const FLOORS = {
  core: { floor: 0, imports: [], what: 'wire format and one stream' },
  client: { floor: 1, imports: ['core'], what: 'the browser client' },
  hub: {
    floor: 1,
    imports: ['core'],
    what: 'protocol, auth, dispatch, replay, and their contracts',
  },
  storage: { floor: 2, imports: ['hub', 'core'], what: "implements the hub's contracts" },
  http: { floor: 2, imports: ['hub', 'core'], what: 'adapts Node HTTP to the hub' },
  server: {
    floor: 3,
    // Through the entry points only (COMPOSITION): none of them is in http.
    imports: ['node', 'web', 'storage', 'hub', 'client', 'core', 'apps', 'demos'],
    what: "the CLI's composition",
  },
  node: {
    floor: 3,
    // web: the console logger both handlers default to (web/console-logger.ts).
    imports: ['http', 'storage', 'hub', 'core', 'web'],
    what: 'the hub composed for Node servers (ssehub/node)',
  },
  web: {
    floor: 3,
    imports: ['http', 'storage', 'hub', 'core'],
    what: 'the hub composed for web-standard Request/Response (ssehub/web)',
  },
  // storage: `ssehub/hub`'s entry stands there (see `areaOf`).
  apps: { floor: 3, imports: ['node', 'storage', 'hub', 'core'], what: 'apps the CLI mounts' },
  demos: { floor: 3, imports: ['node', 'storage', 'hub', 'core'], what: 'demos the CLI serves' },
} as const satisfies Record<string, { floor: number; imports: readonly string[]; what: string }>

type Area = keyof typeof FLOORS

/** Areas whose shipped files import no package and no `node:` module: they run in browsers. */
const ZERO_DEPENDENCIES: readonly Area[] = ['core', 'client']

/**
 * Areas whose shipped files import no `node:` module themselves: they run on Bun, Deno and
 * Workers-style runtimes, and reach Node only through the hub's key loading (`hub/jwt-keys.ts`,
 * and `hub/jose.ts`, which loads jose with `require`).
 */
const WEB_STANDARD: readonly Area[] = ['web']

/**
 * Entry points that import no package and no `node:` module, through any file they reach (type
 * imports included): `ssehub`, `ssehub/client` and `ssehub/hub` (issue #12).
 */
const ZERO_DEPENDENCY_ENTRIES = ['src/index.ts', 'src/client/index.ts', 'src/hub/index.ts']

/**
 * Areas composed the way a user of the package composes it: the CLI's server, and the apps and
 * demos it mounts, reach the other areas only through the package's entry points (issue #12), which
 * proves that those suffice. Among themselves, FLOORS decides (the server mounts the others).
 */
const COMPOSITION: readonly Area[] = ['server', 'apps', 'demos']

/** Node's HTTP modules: the hub takes what a request means, never the request itself. */
const HTTP_MODULES = new Set(['node:http', 'node:http2', 'node:net', 'node:tls', 'node:stream'])

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Folders read for the cycle rule; the floor rules hold inside `src/`. */
const TREES = ['src', 'test', 'bench', 'scripts', 'examples']

/** The files of the package's entry points: the `source` of every `exports` entry of package.json. */
function entryFiles(): Set<string> {
  const { exports } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { source?: string }>
  }
  const files = new Set<string>()
  for (const target of Object.values(exports)) {
    if (typeof target === 'object' && target.source !== undefined) {
      files.add(target.source.replace(/^\.\//, ''))
    }
  }
  return files
}

/** The area of a file under `src/`, or `null` when its folder has no floor yet. */
function areaOf(path: string): Area | null {
  // `src/index.ts` is the package's `.` entry: the wire format only, so it stands on core.
  if (path === 'src/index.ts') return 'core'
  // `src/hub/index.ts` is the `ssehub/hub` entry: it re-exports the memory store too, so it
  // stands on storage's floor (and imports only hub, storage and core).
  if (path === 'src/hub/index.ts') return 'storage'
  const folder = path.split('/')[1] ?? ''
  return Object.hasOwn(FLOORS, folder) ? (folder as Area) : null
}

function isTestFile(path: string): boolean {
  return path.endsWith('.test.ts')
}

/** Every `.ts` file under `TREES`, as POSIX paths relative to the root. */
function sourceFiles(): string[] {
  const files: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
      const path = `${dir}/${entry.name}`
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path)
    }
  }
  for (const tree of TREES) if (existsSync(join(ROOT, tree))) walk(tree)
  return files.sort()
}

interface Edge {
  readonly from: string
  readonly to: string
  readonly specifier: string
  readonly line: number
  readonly kind: string
}

interface Graph {
  readonly files: readonly string[]
  /** Imports of other files of ours, by importer. */
  readonly edges: ReadonlyMap<string, readonly Edge[]>
  /** Imports of packages and `node:` modules, by importer. */
  readonly packages: ReadonlyMap<string, readonly Edge[]>
  /** Relative imports naming no file. */
  readonly unresolved: readonly Edge[]
}

function readGraph(): Graph {
  const files = sourceFiles()
  const edges = new Map<string, Edge[]>()
  const packages = new Map<string, Edge[]>()
  const unresolved: Edge[] = []
  for (const file of files) {
    const own: Edge[] = []
    const external: Edge[] = []
    for (const found of importSpecifiers(readFileSync(join(ROOT, file), 'utf8'))) {
      const { specifier, line, kind } = found
      if (!specifier.startsWith('.')) {
        external.push({ from: file, to: specifier, specifier, line, kind })
        continue
      }
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier))
        .split(sep)
        .join('/')
      const edge = { from: file, to: target, specifier, line, kind }
      if (!existsSync(join(ROOT, target))) unresolved.push(edge)
      else if (target.endsWith('.ts')) own.push(edge)
    }
    edges.set(file, own)
    packages.set(file, external)
  }
  return { files, edges, packages, unresolved }
}

function where(edge: Edge): string {
  return `${edge.from}:${edge.line} (${edge.kind} '${edge.specifier}')`
}

/** Every import that breaks a floor rule, as one message each. */
function floorViolations(graph: Graph): string[] {
  const problems: string[] = []
  for (const file of graph.files) {
    if (!file.startsWith('src/')) continue
    const area = areaOf(file)
    if (area === null) {
      problems.push(
        `${file} is in a folder with no floor: add the folder to FLOORS in test/floors.test.ts and to the layout table in DEVELOPERS.md`,
      )
      continue
    }
    const { floor, imports } = FLOORS[area]
    const allowed: readonly string[] = imports
    for (const edge of graph.edges.get(file) ?? []) {
      if (!edge.to.startsWith('src/')) {
        // Unit tests beside the code may use the shared test helpers; shipped code may not.
        if (!isTestFile(file)) {
          problems.push(`${where(edge)}: shipped code imports ${edge.to}, outside src/`)
        }
        continue
      }
      const target = areaOf(edge.to)
      if (target === null || target === area || allowed.includes(target)) continue
      const up = FLOORS[target].floor >= floor
      problems.push(
        `${where(edge)}: ${area} (floor ${floor}) imports ${target} (floor ${FLOORS[target].floor}, ${FLOORS[target].what})` +
          `${up ? ', a floor that is not below it' : ''}; ${area} may import ${
            allowed.length === 0 ? 'nothing but itself' : `only ${[area, ...allowed].join(', ')}`
          }`,
      )
    }
    if (WEB_STANDARD.includes(area) && !isTestFile(file)) {
      for (const edge of graph.packages.get(file) ?? []) {
        if (!edge.to.startsWith('node:')) continue
        problems.push(
          `${where(edge)}: ${area} runs on web-standard runtimes, so it imports no node: module`,
        )
      }
    }
    if (ZERO_DEPENDENCIES.includes(area) && !isTestFile(file)) {
      for (const edge of graph.packages.get(file) ?? []) {
        problems.push(
          `${where(edge)}: ${area} runs in browsers with no dependencies, so it imports no package and no node: module`,
        )
      }
    }
    if (area === 'hub' && !isTestFile(file)) {
      for (const edge of graph.packages.get(file) ?? []) {
        if (!HTTP_MODULES.has(edge.to)) continue
        problems.push(
          `${where(edge)}: hub parses no HTTP (headers, cookies, query strings, sockets); that belongs to the adapters in src/http/`,
        )
      }
    }
  }
  return problems
}

/**
 * Every import by a file of {@link COMPOSITION} of another area's file that is no entry point: the
 * server, apps and demos use the package as its users do.
 */
function entryViolations(graph: Graph, entries: ReadonlySet<string>): string[] {
  const problems: string[] = []
  for (const file of graph.files) {
    const area = file.startsWith('src/') ? areaOf(file) : null
    if (area === null || !COMPOSITION.includes(area)) continue
    for (const edge of graph.edges.get(file) ?? []) {
      const target = edge.to.startsWith('src/') ? areaOf(edge.to) : null
      if (target === null || COMPOSITION.includes(target) || entries.has(edge.to)) continue
      problems.push(
        `${where(edge)}: ${area} imports ${edge.to}, which is no entry point; ${COMPOSITION.join(', ')} reach the rest of the package only through its entry points (${[...entries].sort().join(', ')}): export what is missing from the fitting one`,
      )
    }
  }
  return problems
}

/** The import cycles between files: one per strongly connected component, as a path. */
function importCycles(graph: Graph): string[][] {
  const next = (file: string): string[] => [
    ...new Set((graph.edges.get(file) ?? []).map((edge) => edge.to)),
  ]
  // Tarjan's algorithm, iterative so a deep chain of imports cannot overflow the stack.
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let counter = 0
  for (const start of graph.files) {
    if (index.has(start)) continue
    const work: { file: string; targets: string[]; at: number }[] = []
    const enter = (file: string): void => {
      index.set(file, counter)
      low.set(file, counter)
      counter++
      stack.push(file)
      onStack.add(file)
      work.push({ file, targets: next(file), at: 0 })
    }
    enter(start)
    while (work.length > 0) {
      const frame = work.at(-1) as (typeof work)[number]
      if (frame.at < frame.targets.length) {
        const target = frame.targets[frame.at++] as string
        if (!index.has(target)) enter(target)
        else if (onStack.has(target)) {
          low.set(frame.file, Math.min(low.get(frame.file) ?? 0, index.get(target) ?? 0))
        }
        continue
      }
      work.pop()
      const parent = work.at(-1)
      if (parent !== undefined) {
        low.set(parent.file, Math.min(low.get(parent.file) ?? 0, low.get(frame.file) ?? 0))
      }
      if (low.get(frame.file) === index.get(frame.file)) {
        const component: string[] = []
        let member: string
        do {
          member = stack.pop() as string
          onStack.delete(member)
          component.push(member)
        } while (member !== frame.file)
        if (component.length > 1 || next(frame.file).includes(frame.file)) {
          components.push(component)
        }
      }
    }
  }
  // Name each component by one cycle through it: the shortest way back to its first file.
  return components.map((component) => {
    const members = new Set(component)
    const first = [...component].sort()[0] as string
    const previous = new Map<string, string>()
    const queue = [first]
    for (let k = 0; k < queue.length; k++) {
      const file = queue[k] as string
      for (const target of next(file)) {
        if (!members.has(target)) continue
        if (target === first) {
          const path = [first]
          for (let step = file; step !== first; step = previous.get(step) as string) {
            path.splice(1, 0, step)
          }
          return [...path, first]
        }
        if (!previous.has(target)) {
          previous.set(target, file)
          queue.push(target)
        }
      }
    }
    return [...component, component[0] as string]
  })
}

function describeCycle(graph: Graph, cycle: readonly string[]): string {
  const steps = cycle.slice(0, -1).map((file, k) => {
    const edge = (graph.edges.get(file) ?? []).find((e) => e.to === cycle[k + 1])
    return edge === undefined ? file : `${file}:${edge.line}`
  })
  return `import cycle: ${[...steps, cycle.at(-1)].join(' → ')}`
}

describe('floors', () => {
  const graph = readGraph()

  it('reads the whole tree', () => {
    assert.ok(
      graph.files.filter((file) => file.startsWith('src/')).length > 100,
      'found too few files under src/: is ROOT right?',
    )
    const hub = graph.edges.get('src/hub/hub.ts') ?? []
    assert.ok(
      hub.some((edge) => edge.to === 'src/core/encode.ts'),
      'missed an import of src/hub/hub.ts',
    )
  })

  it('resolves every relative import to a file', () => {
    assert.deepEqual(
      graph.unresolved.map((edge) => `${where(edge)}: no such file ${edge.to}`),
      [],
    )
  })

  it('has no import from a higher floor, or across storage and the HTTP adapters', () => {
    const problems = floorViolations(graph)
    assert.equal(problems.length, 0, `${problems.length} floor violations:\n${problems.join('\n')}`)
  })

  it('lets the server, the apps and the demos reach other areas only through the entry points', () => {
    const entries = entryFiles()
    assert.ok(entries.has('src/node/index.ts'), 'read no entry point from package.json')
    const problems = entryViolations(graph, entries)
    assert.equal(
      problems.length,
      0,
      `${problems.length} imports past the entry points:\n${problems.join('\n')}`,
    )
  })

  it('tells an import past the entry points from one through them', () => {
    const edge = (from: string, to: string): Edge => ({
      from,
      to,
      specifier: to,
      line: 1,
      kind: 'import',
    })
    const files = ['src/server/a.ts', 'src/apps/b.ts', 'src/demos/c.ts', 'src/node/d.ts']
    const fake: Graph = {
      files,
      edges: new Map([
        [
          'src/server/a.ts',
          [
            edge('src/server/a.ts', 'src/http/send-text.ts'),
            edge('src/server/a.ts', 'src/apps/b.ts'),
          ],
        ],
        [
          'src/apps/b.ts',
          [edge('src/apps/b.ts', 'src/node/index.ts'), edge('src/apps/b.ts', 'src/hub/hub.ts')],
        ],
        ['src/demos/c.ts', [edge('src/demos/c.ts', 'src/index.ts')]],
        ['src/node/d.ts', [edge('src/node/d.ts', 'src/http/send-text.ts')]],
      ]),
      packages: new Map(),
      unresolved: [],
    }
    const entries = new Set(['src/index.ts', 'src/node/index.ts', 'src/hub/index.ts'])
    assert.deepEqual(
      entryViolations(fake, entries).map((problem) => problem.slice(0, problem.indexOf(','))),
      [
        "src/server/a.ts:1 (import 'src/http/send-text.ts'): server imports src/http/send-text.ts",
        "src/apps/b.ts:1 (import 'src/hub/hub.ts'): apps imports src/hub/hub.ts",
      ],
    )
  })

  it('has no import cycle between files, in src/, test/, bench/, scripts/ or examples/', () => {
    const cycles = importCycles(graph).map((cycle) => describeCycle(graph, cycle))
    assert.equal(cycles.length, 0, `${cycles.length} import cycles:\n${cycles.join('\n')}`)
  })

  it('keeps the zero-dependency entries free of packages and node: modules, transitively', () => {
    const problems: string[] = []
    for (const entry of ZERO_DEPENDENCY_ENTRIES) {
      const seen = new Set<string>([entry])
      const queue = [entry]
      for (let k = 0; k < queue.length; k++) {
        const file = queue[k] as string
        for (const edge of graph.packages.get(file) ?? []) {
          problems.push(`${entry} reaches ${where(edge)}`)
        }
        for (const edge of graph.edges.get(file) ?? []) {
          if (!seen.has(edge.to)) {
            seen.add(edge.to)
            queue.push(edge.to)
          }
        }
      }
    }
    assert.deepEqual(problems, [])
  })
})

describe('importSpecifiers', () => {
  it('finds static, type-only, re-exported and dynamic imports, over several lines', () => {
    const source = [
      "import a from './a.ts'",
      'import {',
      '  b,',
      '  type C,',
      "} from './b.ts'",
      "import type { D } from './d.ts'",
      "import './side-effect.ts'",
      "export { e } from './e.ts'",
      "export * as f from './f.ts'",
      "export type { G } from './g.ts'",
      "let h: typeof import('./h.ts')",
      "const i = await import('./i.ts')",
    ].join('\n')
    assert.deepEqual(
      importSpecifiers(source).map(({ specifier, line, kind }) => `${line} ${kind} ${specifier}`),
      [
        '1 import ./a.ts',
        '5 import ./b.ts',
        '6 import type ./d.ts',
        '7 import ./side-effect.ts',
        '8 export from ./e.ts',
        '9 export from ./f.ts',
        '10 export type from ./g.ts',
        '11 import() ./h.ts',
        '12 import() ./i.ts',
      ],
    )
  })

  it('skips imports written in comments, strings, templates and regular expressions', () => {
    const source = [
      "// import x from './comment.ts'",
      "/* export { y } from './block.ts' */",
      'const s = "import z from \'./string.ts\'"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text holding a template literal
      "const t = `import w from './template.ts' ${`import('./nested.ts')`} import('./after.ts')`",
      "const r = /import v from '.\\/regex.ts'/",
      'const half = 1 / 2',
      "const meta = import.meta.url; export const k = 1; const o = { import: 'x' }",
      "import real from './real.ts'",
    ].join('\n')
    assert.deepEqual(
      importSpecifiers(source).map((found) => found.specifier),
      ['./real.ts'],
    )
  })
})
