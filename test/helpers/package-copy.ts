/**
 * A copy of the package to build and pack, for `test/package-contents.test.ts` and
 * `test/consumer.test.ts`: never this folder, whose dist/ benches and other tools use, and which a
 * left-over dist/ from an older tree would stand in for today's build. The copy has what the build
 * reads (src/, the tsconfigs), what `files` names, and node_modules as a link, so that
 * `npm run build` there is the real build script.
 */

import { cp, readFile, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')

/** The parts of `package.json` the package tests read. */
export interface PackageJson {
  files: string[]
  exports: Record<string, unknown>
  bin: Record<string, string>
}

/** Reads the repository's `package.json`. */
export async function readPackageJson(): Promise<PackageJson> {
  return JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson
}

/**
 * Copies into `to` the build's inputs and what `files` names, except dist/ (the copy builds its
 * own), and links node_modules.
 */
export async function copyPackage(pkg: PackageJson, to: string): Promise<void> {
  const listed = pkg.files
    .filter((entry) => !entry.startsWith('!'))
    .map((entry) => entry.split('/')[0] as string)
  const paths = new Set(['package.json', 'README.md', 'LICENSE', 'tsconfig.json', ...listed])
  paths.add('tsconfig.build.json')
  paths.add('src')
  for (const path of paths) {
    if (path === 'dist') continue
    await cp(join(ROOT, path), join(to, path), { recursive: true })
  }
  await symlink(join(ROOT, 'node_modules'), join(to, 'node_modules'), 'dir')
}
