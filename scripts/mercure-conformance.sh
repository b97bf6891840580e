#!/usr/bin/env bash
# Runs the Mercure project's own conformance suite (conformance-tests/ of dunglas/mercure,
# a Playwright suite) against a running hub, from a directory outside this repository:
# the suite is AGPL and none of it is copied here. This script is ours; it only fetches,
# installs and starts theirs.
#
#   scripts/mercure-conformance.sh <version> <base-url> [playwright test options…]
#   scripts/mercure-conformance.sh v1.0.0-alpha.3 http://127.0.0.1:3000/.well-known/mercure
#   scripts/mercure-conformance.sh v0.24.2 http://127.0.0.1:3000/.well-known/mercure --grep 'URI'
#
# <version> is a tag of dunglas/mercure (v0.24.2 and v1.0.0-alpha.3 are pinned to their
# commits; another tag or commit works unpinned). Only the origin of <base-url> matters:
# the suite always talks to <origin>/.well-known/mercure.
#
# Environment:
#   MERCURE_CONFORMANCE_DIR  where the suites go, one folder per version
#                            (default: ../conformance beside this repository)
#   MERCURE_GIT_DIR          a clone of dunglas/mercure, bare or not, to take the suite from
#                            (default: $MERCURE_CONFORMANCE_DIR/mercure.git, cloned bare
#                            from MERCURE_GIT_URL when missing)
#   MERCURE_GIT_URL          default https://github.com/dunglas/mercure.git
#   CHROMIUM                 the Chromium to drive (default /usr/bin/chromium, Debian's
#                            `apt-get install -y chromium`); Playwright's own browser
#                            downloads are not used
#
# Only the suite's chromium project runs: its firefox and webkit projects need Playwright's
# patched browsers, which this script does not download.
set -euo pipefail

usage() {
  sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
version=$1
base_url=$2
shift 2

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
conformance_dir=${MERCURE_CONFORMANCE_DIR:-$(dirname "$repo_root")/conformance}
case "$conformance_dir" in /*) ;; *) conformance_dir=$PWD/$conformance_dir ;; esac
chromium=${CHROMIUM:-/usr/bin/chromium}

case "$version" in
  v0.24.2) pinned=7cefe0184937a1609a9a139cd8eef48cb1d1bedc ;;
  v1.0.0-alpha.3) pinned=ec406d7ed64996b9aeb7f185c331627844d4366e ;;
  *) pinned= ;;
esac

case "$base_url" in
  http://* | https://*) ;;
  *) echo "base URL must be http(s)://…, got: $base_url" >&2; exit 2 ;;
esac

if [[ ! -x "$chromium" ]]; then
  echo "no Chromium at $chromium: apt-get install -y chromium, or set CHROMIUM" >&2
  exit 1
fi

suite_dir=$conformance_dir/$version
case "$suite_dir/" in
  "$repo_root"/*) echo "the suite must live outside the repository: $suite_dir" >&2; exit 2 ;;
esac

if [[ ! -f "$suite_dir/mercure.spec.ts" ]]; then
  git_dir=${MERCURE_GIT_DIR:-$conformance_dir/mercure.git}
  if [[ ! -e "$git_dir" ]]; then
    mkdir -p "$conformance_dir"
    git clone --bare "${MERCURE_GIT_URL:-https://github.com/dunglas/mercure.git}" "$git_dir"
  fi
  # A work tree's .git, or the bare repository itself.
  [[ -d "$git_dir/.git" ]] && git_dir=$git_dir/.git
  commit=$(git --git-dir="$git_dir" rev-parse --verify --quiet "$version^{commit}") || {
    echo "no tag or commit $version in $git_dir" >&2
    exit 1
  }
  if [[ -n "$pinned" && "$commit" != "$pinned" ]]; then
    echo "$version is $commit in $git_dir, expected $pinned" >&2
    exit 1
  fi
  mkdir -p "$suite_dir"
  git --git-dir="$git_dir" archive "$commit" conformance-tests | tar -x -C "$suite_dir" --strip-components=1
  echo "$commit" > "$suite_dir/.mercure-commit"
fi

if [[ ! -d "$suite_dir/node_modules/@playwright/test" ]]; then
  # Their lockfile, so every run drives the Playwright they pinned. Playwright downloads
  # no browser on install.
  (cd "$suite_dir" && npm ci --no-audit --no-fund)
fi

# Our configuration beside theirs: theirs, with only its chromium project, Debian's
# Chromium, and a console reporter instead of the HTML one.
cat > "$suite_dir/ssehub.config.ts" <<'EOF'
// Written by ssehub's scripts/mercure-conformance.sh; extends the suite's own configuration.
import base from './playwright.config'

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium'

export default {
  ...base,
  reporter: [['list']],
  projects: (base.projects ?? [])
    .filter((project) => project.name === 'chromium')
    .map((project) => ({
      ...project,
      use: { ...project.use, launchOptions: { ...project.use?.launchOptions, executablePath } },
    })),
}
EOF

cd "$suite_dir"
echo "Mercure conformance suite $version ($(cat .mercure-commit 2>/dev/null || echo '?')) against $base_url, chromium only" >&2
BASE_URL=$base_url CHROMIUM=$chromium exec npx --no-install playwright test --config ssehub.config.ts "$@"
