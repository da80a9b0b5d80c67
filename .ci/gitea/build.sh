#!/usr/bin/env bash
# Builds Gitea 1.26.0 (the real git host of the git plane's end-to-end tests)
# once per machine and prints the binary's path. Gitea cannot be installed
# with `go install` (its go.mod has replace directives), so this tools module
# requires it and copies those replaces. The first build takes ~4 minutes on
# two cores; the binary is cached outside the repository, keyed by this
# module's go.sum, so later runs print the cached path at once.
#
# Tests find the binary through GREENROOM_GITEA (the path printed here) and
# Gitea's templates and locales through GREENROOM_GITEA_STATIC (a build
# without the bindata tag reads them from the module's source directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${GREENROOM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/greenroom}"
key="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)"
out="$cache/gitea-$key"
if [ ! -x "$out/gitea" ]; then
  mkdir -p "$out"
  echo "building Gitea into $out (first time on this machine: a few minutes)" >&2
  (cd "$here" && go build -tags 'sqlite sqlite_unlock_notify' -o "$out/gitea.tmp" code.gitea.io/gitea) >&2
  mv "$out/gitea.tmp" "$out/gitea"
fi
(cd "$here" && go list -m -f '{{.Dir}}' code.gitea.io/gitea) > "$out/static-root"
echo "$out"
