#!/usr/bin/env bash
# Builds hostprint warning-free and runs the whole test suite in three passes: gcc's
# debugoptimized build (build-test); the same programs built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-sanitize; any finding fails the test that ran it); a short run
# of each libFuzzer target in that build (scripts/fuzz.sh). Ends with one line per pass and
# one closing line "tests: N passed, N failed" (", N skipped" when some were), counted from this
# run's results only (scripts/count_tests.py).
#
# Arguments go to both meson passes' `meson test` (a test name, --suite ...); with arguments the
# fuzz pass is left out. HOSTPRINT_FUZZ_SECONDS sets its length per target (default 10).
# A live test that skips fails here (HOSTPRINT_STRICT_LIVE=1): the suite's machine (Debian 12,
# root) has what they need. On a machine that lacks some of it, HOSTPRINT_STRICT_LIVE=0 lets them
# skip. HOSTPRINT_NO_SANITIZERS=1 leaves passes 2 and 3 out (a quicker run; not the suite).
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

# Pass 2: ASan + UBSan, built with clang (which builds the tree in a third of gcc's time under
# the sanitizers, and whose libFuzzer pass 3 needs). -fno-sanitize-recover makes every UBSan
# finding fatal; the test programs and the hostprint they start (HOSTPRINT_BIN is this build's)
# share the options below. The packaging checks (.deb/.rpm builds) and the Prometheus files hold
# no code of ours: pass 1 only. Warnings are pass 1's to refuse.
if [ "${HOSTPRINT_NO_SANITIZERS:-0}" != 1 ]; then
  export CXX=clang++
  asan_setup=(-Dwerror=false -Dtests=true -Dbuildtype=debugoptimized -Dbench=false -Dfuzz=true
              -Db_lundef=false)
  asan_tests=(--no-suite packaging --no-suite config --timeout-multiplier 3 "$@")
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
  meson_pass asan+ubsan build-sanitize asan_setup asan_tests

  # Pass 3: a short fuzzing run of every libFuzzer target (tests/fuzz/), from its seed corpus and
  # its regressions (every input that once failed), in pass 2's build. A longer run is
  # `scripts/fuzz.sh 600`.
  if [ $# -eq 0 ]; then
    start=$(date +%s) began=$SECONDS
    echo "=== pass fuzz (build-sanitize, ${HOSTPRINT_FUZZ_SECONDS:=10} s a target) ==="
    : >"$results/fuzz.list"
    HOSTPRINT_FUZZ_BUILD=build-sanitize HOSTPRINT_FUZZ_JOBS=2 \
      HOSTPRINT_FUZZ_LIST="$results/fuzz.list" scripts/fuzz.sh "$HOSTPRINT_FUZZ_SECONDS" || status=1
    echo "pass fuzz: ran in $(elapsed $((SECONDS - began)))"
    add_results list fuzz "$results/fuzz.list" "$start"
  fi
fi

python3 scripts/count_tests.py "${passes[@]}" || status=1
exit $status
