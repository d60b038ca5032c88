#!/usr/bin/env bash
# Builds hostprint warning-free and runs the whole test suite in two passes: gcc's debugoptimized
# build (build-test), then the same programs built with AddressSanitizer and UndefinedBehavior-
# Sanitizer (build-asan; any finding fails the test that ran it). Ends with one line per pass and
# one closing line "tests: N passed, N failed" (", N skipped" when some were), counted from this
# run's results only (scripts/count_tests.py).
#
# Arguments go to both passes' `meson test` (a test name, --suite ...).
# A live test that skips fails here (HOSTPRINT_STRICT_LIVE=1): the suite's machine (Debian 12,
# root) has what they need. On a machine that lacks some of it, HOSTPRINT_STRICT_LIVE=0 lets them
# skip. HOSTPRINT_NO_SANITIZERS=1 leaves the sanitizer pass out (a quicker run; not the suite).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${PACKAGING_PACKAGES[@]}" || exit 1

export HOSTPRINT_STRICT_LIVE=${HOSTPRINT_STRICT_LIVE:-1}
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
passes=()  # what count_tests.py adds into the closing line, four words a pass
status=0

# add_results KIND LABEL PATH START: one more pass for the closing line. KIND is meson (PATH a
# build dir), junit (PATH a JUnit XML file) or list (PATH a file of lines "NAME ok|fail|skip");
# START is when the pass began (date +%s): older results count as a failure, never as passes.
add_results() { passes+=(--pass "$1" "$2" "$3" "$4"); }

# A step that is not a test program (a build) recorded as one case of a pass.
add_step() {  # LABEL NAME ok|fail
  local file="$results/$1.list"
  echo "$2 $3" >>"$file"
  [ "$3" = ok ] || status=1
}

elapsed() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

# meson_pass LABEL BUILD_DIR SETUP_ARGS_ARRAY TEST_ARGS_ARRAY [ENV=VALUE...]: configures (once)
# and builds BUILD_DIR, runs its `meson test` and adds its results.
meson_pass() {
  local label=$1 build=$2
  local -n setup_args=$3 test_args=$4
  shift 4
  local began=$SECONDS start
  start=$(date +%s)
  echo "=== pass $label ($build) ==="
  if [ ! -f "$build/build.ninja" ] &&
     ! meson setup "$build" "${setup_args[@]}"; then
    add_step "$label" "$build:setup" fail
    add_results list "$label" "$results/$label.list" "$start"
    return
  fi
  if ! ninja -C "$build"; then
    add_step "$label" "$build:build" fail
    add_results list "$label" "$results/$label.list" "$start"
    return
  fi
  echo "pass $label: built in $(elapsed $((SECONDS - began)))"
  # Results of a previous run must not be read as this one's: gtest writes <test>.xml at its end
  # only, so a program that crashes would leave last run's file for meson to read.
  rm -f "$build"/*.xml "$build"/meson-logs/testlog.*
  local tested=$SECONDS
  env "$@" meson test -C "$build" --print-errorlogs "${test_args[@]}" || status=1
  echo "pass $label: tests ran in $(elapsed $((SECONDS - tested))), whole pass $(elapsed $((SECONDS - began)))"
  add_results meson "$label" "$build" "$start"
}

common_setup=(-Dwerror=true -Dtests=true -Dbuildtype=debugoptimized)

# Pass 1: the build the project ships, every test (the packages test included).
gcc_setup=("${common_setup[@]}")
gcc_tests=("$@")
meson_pass gcc build-test gcc_setup gcc_tests

# Pass 2: ASan + UBSan. -fno-sanitize-recover makes every UBSan finding fatal; the test programs
# and the hostprint they start (HOSTPRINT_BIN is this build's) share the options below. The
# packaging checks (.deb/.rpm builds) and the Prometheus files hold no code of ours: pass 1 only.
# Warnings are pass 1's to refuse: under -fsanitize gcc 12 reports maybe-uninitialized values in
# Boost.Beast's headers that are not (so no -Werror, and that one warning off, here).
if [ "${HOSTPRINT_NO_SANITIZERS:-0}" != 1 ]; then
  asan_setup=(-Dwerror=false -Dtests=true -Dbuildtype=debugoptimized -Dbench=false
              -Db_sanitize=address,undefined -Db_lundef=false
              "-Dcpp_args=-fno-sanitize-recover=all -Wno-maybe-uninitialized")
  asan_tests=(--no-suite packaging --no-suite config --timeout-multiplier 3 "$@")
  meson_pass asan+ubsan build-asan asan_setup asan_tests \
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
fi

# A later pass (say, fuzz corpora replayed) adds its cases the same way:
#   start=$(date +%s); run it writing report.xml or lines "NAME ok|fail"
#   add_results junit fuzz-replay report.xml "$start"     (or: add_results list ...)

python3 scripts/count_tests.py "${passes[@]}" || status=1
exit $status
