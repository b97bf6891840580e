// Issue #12, item 4: what `npm pack` ships. The package is built and packed in a temporary copy
// (`test/helpers/package-copy.ts`), never here: packing this folder would run `prepare` (the
// build) over the dist/ that benches and other tools use. A compiled test left in dist/ from an
// earlier build is planted first: the build must clear it, since `npm publish` packs whatever
// dist/ holds.
//
// The rules: no tests, fixtures or test helpers, nor test hooks in the declarations (issue #12:
// `databaseHandleForTesting` was exported by `ssehub/storage/sqlite`); a declaration file beside
// every compiled module; every `exports` target and the `bin` file present; every source map
// resolving to a shipped file (the maps point to src/, which ships for that reason, without its
// tests).

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { copyPackage, type PackageJson, readPackageJson } from './helpers/package-copy.ts'

/** The longest the build or the dry-run pack may take before the test fails. */
const STEP_TIMEOUT_MS = 60_000

const run = promisify(execFile)

interface PackResult {
  entryCount: number
  size: number
  unpackedSize: number
  files: { path: string }[]
}

/** Every string under an `exports` map: the files its conditions point to. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (value === null || typeof value !== 'object') return []
  return Object.values(value).flatMap(exportTargets)
}

/** `./dist/index.js` → `dist/index.js`, as `npm pack` lists paths. */
function packPath(target: string): string {
  return posix.normalize(target)
}

/** The file a `//# sourceMappingURL=` comment at the end of `text` names, if any. */
function sourceMappingUrl(text: string): string | undefined {
  return /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1]
}

describe('npm pack', () => {
  let dir: string
  let pkg: PackageJson
  let pack: PackResult
  let shipped: Set<string>

  before(async () => {
    pkg = await readPackageJson()
    dir = await mkdtemp(join(tmpdir(), 'ssehub-pack-'))
    await copyPackage(pkg, dir)
    await mkdir(join(dir, 'dist'))
    await writeFile(join(dir, 'dist/left-over.test.js'), '// from an earlier build\n')
    await run('npm', ['run', 'build'], { cwd: dir, timeout: STEP_TIMEOUT_MS })
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: dir,
      timeout: STEP_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    })
    pack = (JSON.parse(stdout) as PackResult[])[0] as PackResult
    shipped = new Set(pack.files.map((file) => file.path))
    process.stdout.write(
      `package: ${pack.entryCount} files, ${pack.size} B packed, ${pack.unpackedSize} B unpacked\n`,
    )
  })

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('ships no tests, fixtures or test helpers', () => {
    const testLike = [...shipped].filter(
      (path) =>
        /\.(test|spec|contract|bench)\./.test(path) ||
        /(^|\/)(test|tests|__tests__|fixtures?|helpers|bench|scripts)\//.test(path),
    )
    assert.deepEqual(testLike, [])
  })

  it('ships only the build, its sources, the web pages and the package documents', () => {
    const documents = new Set(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'])
    const elsewhere = [...shipped].filter(
      (path) => !documents.has(path) && !/^(dist|src|web)\//.test(path),
    )
    assert.deepEqual(elsewhere, [])
    for (const document of documents) assert.ok(shipped.has(document), `${document} is shipped`)
  })

  it('keeps test hooks out of the published declarations', async () => {
    const hooks: string[] = []
    for (const path of shipped) {
      if (!path.endsWith('.d.ts')) continue
      const text = await readFile(join(dir, path), 'utf8')
      if (/ForTesting|@internal/.test(text)) hooks.push(path)
    }
    assert.deepEqual(hooks, [])
  })

  it('ships a declaration file beside every compiled module', () => {
    const compiled = [...shipped].filter((path) => path.startsWith('dist/') && path.endsWith('.js'))
    assert.ok(compiled.length > 0, 'dist/ has compiled modules')
    const missing = compiled
      .filter((path) => !path.endsWith('.min.js'))
      .map((path) => path.replace(/\.js$/, '.d.ts'))
      .filter((path) => !shipped.has(path))
    assert.deepEqual(missing, [])
  })

  it('ships every exports target and the bin file', () => {
    const targets = [...exportTargets(pkg.exports), ...Object.values(pkg.bin)].map(packPath)
    assert.ok(targets.length > 0)
    assert.deepEqual(
      targets.filter((path) => !shipped.has(path)),
      [],
    )
  })

  it('ships every source map a compiled file names, and every source a map points to', async () => {
    const unresolved: string[] = []
    let maps = 0
    for (const path of shipped) {
      if (!path.startsWith('dist/')) continue
      const text = await readFile(join(dir, path), 'utf8')
      if (path.endsWith('.map')) {
        maps++
        const map = JSON.parse(text) as { sourceRoot?: string; sources: string[] }
        for (const source of map.sources) {
          const target = posix.join(posix.dirname(path), map.sourceRoot ?? '', source)
          if (!shipped.has(target)) unresolved.push(`${path} → ${source}`)
        }
      } else if (path.endsWith('.js') || path.endsWith('.d.ts')) {
        const url = sourceMappingUrl(text)
        if (url === undefined) continue
        const target = posix.join(posix.dirname(path), url)
        if (!shipped.has(target)) unresolved.push(`${path} → ${url}`)
      }
    }
    assert.ok(maps > 0, 'the build has source maps (else drop src/ from `files`)')
    assert.deepEqual(unresolved, [])
  })
})
