#!/usr/bin/env bash
# Runs clang-tidy with the project's .clang-tidy over every source file; exits 1 on any warning.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}" clang-tidy
[ -f build-dev/compile_commands.json ] || meson setup build-dev -Dbuildtype=debugoptimized >/dev/null
out=$(for f in agent/*.cpp proto/*.cpp collectors/*.cpp collectors/*/*.cpp; do clang-tidy -p build-dev --quiet "$f" 2>/dev/null; done)
if grep -q "warning:" <<<"$out"; then echo "$out"; exit 1; fi
echo "clang-tidy: clean"
