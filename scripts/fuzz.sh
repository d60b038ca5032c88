#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang in build-fuzz and runs them.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   fuzz each target for SECONDS (default 600)
#   scripts/fuzz.sh --replay [TARGET...]    run each target once over its corpus and regressions
# One line per target (name, seconds, executions, result), then "fuzz: N passed, N failed".
# Exits non-zero on any finding; the input is kept in build-fuzz/fuzz-findings/TARGET/.
# HOSTPRINT_FUZZ_JOBS=2 runs two targets at once (default 1: the machine is shared).
# HOSTPRINT_FUZZ_BUILD names the build dir (default build-fuzz; any dir set up with -Dfuzz=true,
# as the test suite's sanitizer pass is); HOSTPRINT_FUZZ_LIST=FILE also writes one line per target,
# "fuzz.TARGET ok|fail", for scripts/count_tests.py.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
# clang and libclang-rt-14-dev, as in TEST_PACKAGES: libFuzzer and the sanitizers.
ensure_packages "${BUILD_PACKAGES[@]}" clang libclang-rt-14-dev || exit 1

mode=fuzz seconds=600
if [ "${1:-}" = --replay ]; then
  mode=replay; shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1; shift
fi
jobs=${HOSTPRINT_FUZZ_JOBS:-1}
build=${HOSTPRINT_FUZZ_BUILD:-build-fuzz}

# The longest input each target is given: room for its format's structures and bounds, no more
# (longer inputs slow every run).
declare -A max_len=(
  [passwd]=4096 [dpkg]=16384 [apk]=8192 [rpm_header]=16384 [rpm_bdb]=32768 [cron]=4096
  [desktop_entry]=4096 [ld_so_preload]=12288 [unit_names]=512 [proc_net]=8192 [proc_text]=4096
  [cgroup_path]=4096 [java_args]=4096 [python_dist]=8192 [rasp_alarm]=8192 [x509_pem]=8192
  [version_text]=4096 [zip]=65536 [manifest]=8192 [nginx]=16384 [apache]=16384 [tomcat]=16384
  [config]=8192 [http_request]=20000)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(printf '%s\n' "${!max_len[@]}" | sort))
for t in "${targets[@]}"; do
  [ -n "${max_len[$t]:-}" ] || { echo "fuzz: no target named $t" >&2; exit 2; }
done

if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false -Dbench=false \
    -Dbuildtype=debugoptimized -Db_ndebug=false >"${TMPDIR:-/tmp}/hostprint-fuzz-setup.log" 2>&1 ||
    { tail -n 20 "${TMPDIR:-/tmp}/hostprint-fuzz-setup.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$build" fuzzers >"$build/fuzz-build.log" 2>&1; then
  tail -n 30 "$build/fuzz-build.log"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

logs=$build/fuzz-logs
mkdir -p "$logs"
# Runs one target; leaves its summary line in $logs/TARGET.line.
run_target() {
  local t=$1 exe=$build/tests/fuzz/${1}_fuzzer
  local corpus=tests/fuzz/corpus/$t regressions=tests/fuzz/regressions/$t
  local work=$build/fuzz-corpus/$t findings=$build/fuzz-findings/$t/
  local log=$logs/$t.log
  mkdir -p "$work" "$findings" "$corpus" "$regressions"
  local args=(-max_len="${max_len[$t]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
              -artifact_prefix="$findings")
  [ -f "tests/fuzz/dicts/$t.dict" ] && args+=(-dict="tests/fuzz/dicts/$t.dict")
  local start=$SECONDS status
  if [ $mode = replay ]; then
    # -runs=0: every input of the folders once, no mutation.
    "$exe" "${args[@]}" -runs=0 "$corpus" "$regressions" >"$log" 2>&1
  else
    # New inputs go to a scratch folder, so the committed corpus stays small.
    "$exe" "${args[@]}" -max_total_time="$seconds" "$work" "$corpus" "$regressions" >"$log" 2>&1
  fi
  status=$?
  local took=$((SECONDS - start))
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  local result=ok
  if [ $status -ne 0 ]; then
    local kind artifact
    kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer): [a-z-]+|runtime error|fuzz check failed|out-of-memory|timeout' "$log" | head -n 1)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    result="FINDING (${kind:-exit $status})${artifact:+ input $artifact}; log $log"
  fi
  printf '%-14s %5ss %12s execs  %s\n' "$t" "$took" "${execs:-?}" "$result" >"$logs/$t.line"
  [ $status -eq 0 ]
}

running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

passed=0 failed=0
for t in "${targets[@]}"; do
  cat "$logs/$t.line"
  verdict=ok
  if grep -q FINDING "$logs/$t.line"; then failed=$((failed + 1)) verdict=fail
  else passed=$((passed + 1)); fi
  [ -n "${HOSTPRINT_FUZZ_LIST:-}" ] && echo "fuzz.$t $verdict" >>"$HOSTPRINT_FUZZ_LIST"
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
