#!/usr/bin/env bash
# GET /metrics at 10,000 processes: series exposed, render time and scrape latency, beside the
# same agent's /v5/x/asset/statistics in the same run (shared machines are noisy).
#
#   bench/metrics.sh        (root; loopback only; about a minute after the build)
#
# Two swarms of 10,000 idle processes, each in a PID namespace of its own:
#   same    every process runs one executable (the common case: few distinct paths)
#   paths   every process runs from a path of its own (the worst case: the path cap applies)
#
# Exit status: 0 when every scrape p99 is under the target, 1 when one is not, 2 when the run failed.
# Environment: BENCH_KEEP_BUILD=1 uses build-bench/hostprint as it is; BENCH_HOSTPRINT=PATH runs
# that executable instead of building.
set -euo pipefail

case ${1:-} in
  "") ;;
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "usage: $0" >&2; exit 2 ;;
esac

source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$source_root/build-bench
hostprint=${BENCH_HOSTPRINT:-$build_dir/hostprint}
readonly swarm_size=10000 scrapes=200 max_p99_ms=5

work="" hostprint_pid="" swarm_pid="" swarm_unshare="" swarm_init="" failures=0

log() { printf '[metrics-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 5 s, then SIGKILL
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_swarm() {  # SIGKILL to the namespace's pid 1 ends every process in it
  if [[ -n $swarm_init ]]; then kill -KILL "$swarm_init" 2>/dev/null || true; fi
  if [[ -n $swarm_unshare ]]; then kill -TERM "$swarm_unshare" 2>/dev/null || true; fi
  stop_pid "$swarm_pid"
  swarm_init="" swarm_unshare="" swarm_pid=""
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_pid "$hostprint_pid"
  stop_swarm
  [[ -n $work && -d $work ]] && rm -rf -- "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 2' INT TERM

[[ $EUID -eq 0 ]] || die "must run as root (PID namespaces, reading every process)"
for tool in curl cc unshare ps ss meson ninja; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh installs it)"
done

work=$(mktemp -d /tmp/hostprint-metrics-bench.XXXXXX)
chmod 700 "$work"

if [[ -n ${BENCH_HOSTPRINT:-} ]]; then
  [[ -x $hostprint ]] || die "$hostprint is not an executable"
elif [[ ${BENCH_KEEP_BUILD:-0} != 1 || ! -x $hostprint ]]; then
  log "building hostprint (release) in $build_dir"
  if [[ ! -f $build_dir/build.ninja ]]; then
    (cd "$source_root" && meson setup build-bench -Dbuildtype=release -Dtests=false) \
      >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "meson setup failed"; }
  fi
  ninja -C "$build_dir" hostprint >>"$work/build.log" 2>&1 ||
    { tail -n 60 "$work/build.log" >&2; die "build failed"; }
fi

# The swarms' programs: a pause without libc, so that 10,000 separate executables stay cheap.
cc -O2 -o "$work/pause_swarm" "$source_root/bench/pause_swarm.c" || die "cannot compile pause_swarm.c"
cc -O2 -o "$work/path_swarm" "$source_root/bench/path_swarm.c" || die "cannot compile path_swarm.c"
if [[ $(uname -m) == x86_64 ]]; then
  printf '%s\n' 'void _start(void) { for (;;) __asm__ volatile("syscall" : : "a"(34L) : "rcx", "r11", "memory"); }' \
    >"$work/pause.c"
  cc -O2 -static -nostdlib -o "$work/pause" "$work/pause.c" || die "cannot compile pause.c"
else
  printf '%s\n' '#include <unistd.h>' 'int main(void) { for (;;) pause(); }' >"$work/pause.c"
  cc -O2 -static -o "$work/pause" "$work/pause.c" || die "cannot compile pause.c"
fi

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$token" >"$work/token")

start_swarm() {  # start_swarm same|paths
  log "starting $swarm_size idle processes ($1) in a new PID namespace"
  rm -f "$work/swarm.ready"
  local -a program
  if [[ $1 == same ]]; then
    program=("$work/pause_swarm" "$swarm_size" "$work/swarm.ready")
  else
    rm -rf "$work/paths" && mkdir "$work/paths"
    program=("$work/path_swarm" "$swarm_size" "$work/pause" "$work/paths" "$work/swarm.ready")
  fi
  (unshare --pid --fork --mount-proc --kill-child=SIGKILL "${program[@]}" >"$work/swarm.log" 2>&1 ||
    true) 2>/dev/null &
  swarm_pid=$!
  local i
  for ((i = 0; i < 1200; i++)); do
    [[ -s $work/swarm.ready ]] && break
    kill -0 "$swarm_pid" 2>/dev/null || { cat "$work/swarm.log" >&2; die "the swarm failed to start"; }
    sleep 0.1
  done
  [[ -s $work/swarm.ready ]] || die "the swarm was not ready within 120 s"
  swarm_unshare=$(ps -o pid= --ppid "$swarm_pid" | tr -d ' ' | head -n 1)
  [[ -n $swarm_unshare ]] && swarm_init=$(ps -o pid= --ppid "$swarm_unshare" | tr -d ' ' | head -n 1)
  [[ -n $swarm_init ]] || die "cannot find the namespace's pid 1"
  local children
  children=$(ps -o pid= --ppid "$swarm_init" | wc -l)
  ((children == swarm_size)) || die "expected $swarm_size processes in the namespace, found $children"
}

hp_port=""
start_hostprint() {
  local i
  for ((i = 0; i < 200; i++)); do
    hp_port=$((20000 + RANDOM % 40000))
    [[ -z $(ss -H -ltn "sport = :$hp_port") ]] && break
  done
  echo '{}' >"$work/hostprint.json"
  : >"$work/hostprint.log"
  "$hostprint" serve --config "$work/hostprint.json" --listen "127.0.0.1:$hp_port" \
    --token-file "$work/token" --state-dir "$work/state" --log-level debug --scan-interval 3600 \
    >>"$work/hostprint.log" 2>&1 &
  hostprint_pid=$!
  for ((i = 0; i < 1200; i++)); do  # the first scan is published before the port answers
    kill -0 "$hostprint_pid" 2>/dev/null || { cat "$work/hostprint.log" >&2; die "hostprint exited"; }
    curl -sf --max-time 5 -o /dev/null -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$hp_port/metrics" 2>/dev/null && return 0
    sleep 0.1
  done
  die "hostprint did not answer within 120 s"
}

# latencies PATH: time_total of $scrapes sequential requests, one a line, in ms, sorted.
latencies() {
  local i
  for ((i = 0; i < scrapes; i++)); do
    curl -s --max-time 5 -o /dev/null -w '%{http_code} %{time_total}\n' \
      -H "Authorization: Bearer $token" "http://127.0.0.1:$hp_port$1"
  done | awk '$1 != 200 { bad = 1 } { printf "%.3f\n", $2 * 1000 } END { exit bad }' | sort -n ||
    die "a request to $1 was not answered 200"
}
pick() { sed -n "$(($1))p"; }  # pick LINE

results=()
measure() {  # measure same|paths
  start_swarm "$1"
  start_hostprint
  local body series bytes processes render text_ms om_ms peer_ms
  body=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$hp_port/metrics")
  series=$(grep -vc '^#' <<<"$body")
  bytes=$(printf '%s\n' "$body" | wc -c)
  processes=$(grep '^hostprint_running_processes{.*category="host"' <<<"$body" | awk '{print $2}')
  render=$(grep -o '/metrics rendered in [0-9.]* ms' "$work/hostprint.log" | tail -n 1 | awk '{print $4}')
  text_ms=$(latencies /metrics)
  peer_ms=$(latencies /v5/x/asset/statistics)
  local median=$((scrapes / 2)) p99=$((scrapes * 99 / 100))
  local m_med m_p99 p_med p_p99
  m_med=$(pick $median <<<"$text_ms") m_p99=$(pick $p99 <<<"$text_ms")
  p_med=$(pick $median <<<"$peer_ms") p_p99=$(pick $p99 <<<"$peer_ms")
  local verdict=ok
  awk -v v="$m_p99" -v max="$max_p99_ms" 'BEGIN { exit !(v < max) }' || { verdict=MISSED; failures=$((failures + 1)); }
  results+=("$(printf '%-6s %9s %7s %8s %10s %12s %12s %13s %13s  %s' "$1" "$processes" "$series" \
    "$bytes" "${render:-?}" "$m_med" "$m_p99" "$p_med" "$p_p99" "$verdict")")
  stop_pid "$hostprint_pid"
  hostprint_pid=""
  stop_swarm
}

measure same
measure paths

printf '\n%-6s %9s %7s %8s %10s %12s %12s %13s %13s  %s\n' swarm processes series bytes \
  render_ms metrics_p50 metrics_p99 peer_p50 peer_p99 "p99 < ${max_p99_ms} ms"
printf '%s\n' "${results[@]}"
printf '(ms; %d sequential curl scrapes each, time_total; peer = /v5/x/asset/statistics; %d CPUs, load %s)\n' \
  "$scrapes" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
((failures == 0)) || exit 1
