#!/usr/bin/env bash
# Makes the source tarball dist/hostprint-VERSION.tar.xz from the tracked files of this checkout
# (with their uncommitted edits; files never added to git are left out) and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n "s/^  version : '\([^']*\)',/\1/p" meson.build)
[ -n "$version" ] || { echo "build-source: no version in meson.build" >&2; exit 1; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "build-source: needs a git checkout" >&2; exit 1; }
# A commit of the working tree's tracked files, made without touching the checkout or the stash.
tree=$(git stash create)
mkdir -p dist
tarball=dist/hostprint-$version.tar.xz
# Written aside and renamed, so the .deb and .rpm builds may both ask for it at once.
partial=$(mktemp "$tarball.XXXXXX")
git archive --format=tar --prefix="hostprint-$version/" "${tree:-HEAD}" | xz -T1 -6 > "$partial"
chmod 644 "$partial"
mv "$partial" "$tarball"
echo "$tarball"
