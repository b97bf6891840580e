import { fileURLToPath } from 'node:url'
import type { NextConfig } from 'next'

const repository = fileURLToPath(new URL('../..', import.meta.url))

const config: NextConfig = {
  turbopack: {
    // Inside this repository, `ssehub/web` is the package itself: build it from its sources,
    // which lie above this folder. An app that installed ssehub needs none of this.
    root: repository,
    resolveAlias: { 'ssehub/web': '../../src/web/index.ts' },
  },
  // `tsc -p examples/next-route-handler` type-checks this app (`npm run lint`), with the
  // TypeScript of this repository, whose compiler Next.js does not drive.
  typescript: { ignoreBuildErrors: true },
}

export default config
