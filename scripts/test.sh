#!/usr/bin/env bash
# Builds hostprint warning-free and runs the whole test suite; ends with one line
# "tests: N passed, N failed" (", N skipped" when some were skipped) counted from the results.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${PACKAGING_PACKAGES[@]}" || exit 1

build=build-test
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dwerror=true -Dtests=true -Dbuildtype=debugoptimized || exit 1
fi
if ! ninja -C "$build"; then
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

rm -f "$build/meson-logs/testlog.junit.xml"
meson test -C "$build" --print-errorlogs "$@"
meson_status=$?

python3 scripts/count_tests.py "$build/meson-logs/testlog.junit.xml" "$build/meson-logs/testlog.json"
count_status=$?
if [ $meson_status -ne 0 ] || [ $count_status -ne 0 ]; then exit 1; fi
exit 0
