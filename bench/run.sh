#!/usr/bin/env bash
# hostprint benchmarks, each against a peer measured in the same run (shared machines are noisy,
# so only ratios are judged).
#
#   bench/run.sh [http|scan|memory|all]        (root; loopback only; about 2 to 4 minutes for all)
#
#   http    wrk on two hostprint endpoints beside Debian's prometheus-node-exporter /metrics
#   scan    CPU of one full scan and of a rescan with nothing changed, beside ps + ss + getent,
#           with 10,000 extra idle processes in a PID namespace
#   memory  RSS of `hostprint serve` over 100 SIGHUP rescans, with the same 10,000 processes
#
# Exit status: 0 when every target is met, 1 when one is missed, 2 when the run itself failed.
# Environment: BENCH_KEEP_BUILD=1 skips the build step if build-bench already holds the binaries.
set -euo pipefail

mode=${1:-all}
case $mode in
  http | scan | memory | all) ;;
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "usage: $0 [http|scan|memory|all]" >&2; exit 2 ;;
esac

source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$source_root/build-bench
hostprint=$build_dir/hostprint
scan_bench=$build_dir/bench/scan_bench

# Targets.
readonly http_min_ratio=50 http_max_p99_ms=5
readonly scan_max_full_ratio=0.5 scan_max_rescan_ratio=0.25
readonly mem_max_rss_kib=$((16 * 1024)) mem_max_growth_kib=1024
readonly swarm_size=10000 wrk_seconds=10 scan_rounds=3 rescans=20 sighups=100

work=""
hostprint_pid="" node_pid="" swarm_pid="" swarm_unshare="" swarm_init=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

stop_pid() {  # stop_pid PID [SIGNAL]: signal it, wait up to 5 s, then SIGKILL
  local pid=$1 signal=${2:-TERM} i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill "-$signal" "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_swarm() {
  # SIGKILL to the namespace's pid 1 ends every process in the namespace; unshare --kill-child
  # does the same when unshare itself is stopped (in case pid 1 was not known yet).
  if [[ -n $swarm_init ]]; then kill -KILL "$swarm_init" 2>/dev/null || true; fi
  if [[ -n $swarm_unshare ]]; then kill -TERM "$swarm_unshare" 2>/dev/null || true; fi
  stop_pid "$swarm_pid"
  swarm_init="" swarm_unshare="" swarm_pid=""
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_pid "$hostprint_pid"
  stop_pid "$node_pid"
  stop_swarm
  [[ -n $work && -d $work ]] && rm -rf -- "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 2' INT TERM

# --- prerequisites ---------------------------------------------------------------------------

[[ $EUID -eq 0 ]] || die "must run as root (PID namespaces, reading every process)"

ensure_tools() {
  local missing=() tool package
  while read -r tool package; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$package")
  done <<'EOF'
wrk wrk
prometheus-node-exporter prometheus-node-exporter
ps procps
ss iproute2
curl curl
cc gcc
unshare util-linux
getent libc-bin
meson meson
ninja ninja-build
EOF
  [[ -x /usr/bin/prometheus-node-exporter ]] || missing+=(prometheus-node-exporter)
  ((${#missing[@]} == 0)) && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  if [[ ${BENCH_KEEP_BUILD:-0} == 1 && -x $hostprint && -x $scan_bench ]]; then
    log "using the existing build in $build_dir"
    return 0
  fi
  log "building hostprint (release) in $build_dir"
  if [[ ! -f $build_dir/build.ninja ]]; then
    (cd "$source_root" && meson setup build-bench -Dbuildtype=release -Dtests=false) \
      >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "meson setup failed"; }
  fi
  ninja -C "$build_dir" >>"$work/build.log" 2>&1 || { tail -n 60 "$work/build.log" >&2; die "build failed"; }
  [[ -x $hostprint && -x $scan_bench ]] || die "the build did not produce hostprint and scan_bench"
}

# --- helpers ---------------------------------------------------------------------------------

calc() { awk "BEGIN { printf \"%.6g\", $* }"; }  # calc 'EXPR'
fmt() { awk "BEGIN { printf \"$1\", $2 }"; }      # fmt PRINTF-FORMAT 'EXPR'
holds() { awk "BEGIN { exit !($*) }"; }          # holds 'CONDITION'
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 40000))
    [[ -z $(ss -H -ltn "sport = :$port") ]] && { echo "$port"; return 0; }
  done
  die "no free loopback port found"
}

token=""
hp_port=""
hp_curl() {  # hp_curl PATH: body on stdout; fails on a non-2xx answer
  curl -sf --max-time 5 -H "X-Auth-Token: $token" "http://127.0.0.1:$hp_port$1"
}
generation() { hp_curl /status | grep -o '"generation":[0-9]*' | cut -d: -f2; }

start_hostprint() {
  [[ -z $hostprint_pid ]] || die "hostprint already running"
  hp_port=$(free_port)
  mkdir -p "$work/state"
  echo '{}' >"$work/hostprint.json"
  "$hostprint" serve --config "$work/hostprint.json" --listen "127.0.0.1:$hp_port" \
    --token-file "$work/token" --state-dir "$work/state" --log-level warning --scan-interval 3600 \
    >>"$work/hostprint.log" 2>&1 &
  hostprint_pid=$!
  local i
  for ((i = 0; i < 1200; i++)); do  # the first scan completes before the port opens
    kill -0 "$hostprint_pid" 2>/dev/null || { cat "$work/hostprint.log" >&2; die "hostprint exited at start"; }
    [[ -n $(generation 2>/dev/null || true) ]] && return 0
    sleep 0.1
  done
  die "hostprint did not answer /status within 120 s"
}

stop_hostprint() { stop_pid "$hostprint_pid"; hostprint_pid=""; }

rss_kib() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

# --- results table ---------------------------------------------------------------------------

rows=()
failures=0
row() {  # row AREA WHAT MEASURED TARGET VERDICT
  rows+=("$(printf '%-7s| %-46s| %-52s| %-10s| %s' "$1" "$2" "$3" "$4" "$5")")
  [[ $5 == FAIL ]] && failures=$((failures + 1))
  return 0
}
verdict() { if holds "$1"; then echo PASS; else echo FAIL; fi; }

print_table() {
  local rule
  rule=$(printf '%*s' 130 '' | tr ' ' '-')
  echo
  echo "hostprint benchmarks ($mode), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$rule"
  printf '%-7s| %-46s| %-52s| %-10s| %s\n' area measure measured target result
  echo "$rule"
  local r
  for r in "${rows[@]}"; do echo "$r"; done
  echo "$rule"
  if ((failures == 0)); then echo "ALL TARGETS MET"; else echo "$failures TARGET(S) MISSED"; fi
}

# --- 1. HTTP ---------------------------------------------------------------------------------

wrk_ms() {  # "812.00us" | "1.20ms" | "2.01s" | "1.00m" -> milliseconds
  awk -v v="$1" 'BEGIN {
    if (!match(v, /[a-z]+$/)) exit 1
    unit = substr(v, RSTART); n = substr(v, 1, RSTART - 1) + 0
    f = unit == "us" ? 0.001 : unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : -1
    if (f < 0) exit 1
    printf "%.3f", n * f }'
}

# run_wrk NAME URL [HEADER]: sets wrk_rps, wrk_p99_ms, wrk_bad (non-2xx answers + socket errors)
run_wrk() {
  local name=$1 url=$2 out=$work/wrk-$1.txt
  local -a header=()
  [[ -n ${3:-} ]] && header=(-H "$3")
  wrk -t2 -c32 -d1s "${header[@]}" "$url" >/dev/null 2>&1 || true  # warm-up
  log "wrk -t2 -c32 -d${wrk_seconds}s --latency $url"
  wrk -t2 -c32 "-d${wrk_seconds}s" --latency "${header[@]}" "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed on $url"; }
  wrk_rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
  local p99
  p99=$(awk '$1 == "99%" { print $2 }' "$out")
  [[ -n $wrk_rps && -n $p99 ]] || { cat "$out" >&2; die "cannot parse wrk output for $name"; }
  wrk_p99_ms=$(wrk_ms "$p99") || die "unknown latency unit in '$p99'"
  local non2xx errors
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errors=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
  wrk_bad=$((${non2xx:-0} + ${errors:-0}))
  wrk_detail=""
  # Successful answers per second: wrk's Requests/sec counts non-2xx answers too.
  wrk_ok_rps=$(awk -v bad="${non2xx:-0}" '/ requests in / { t = $4; sub(/s,$/, "", t); printf "%.2f", ($1 - bad) / t }' "$out")
  ((wrk_bad == 0)) || wrk_detail=" ($(grep -h 'Socket errors\|Non-2xx' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd';' -))"
  log "  $name: $wrk_rps req/s, p99 $wrk_p99_ms ms, $wrk_bad non-2xx or socket errors"
}

bench_http() {
  log "HTTP: starting hostprint and prometheus-node-exporter on loopback"
  start_hostprint
  local node_port
  node_port=$(free_port)
  /usr/bin/prometheus-node-exporter "--web.listen-address=127.0.0.1:$node_port" \
    >"$work/node_exporter.log" 2>&1 &
  node_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$node_pid" 2>/dev/null || { cat "$work/node_exporter.log" >&2; die "node_exporter exited at start"; }
    curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$node_port/metrics" && break
    sleep 0.1
  done
  ((i < 100)) || die "node_exporter did not answer /metrics"

  local base=http://127.0.0.1:$hp_port/v5/p1/asset
  local stats_path=$base/statistics proc_path="$base/process/statistics?limit=200"
  local auth="X-Auth-Token: $token" url
  for url in "$stats_path" "$proc_path"; do
    [[ $(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "$auth" "$url") == 200 ]] ||
      die "hostprint does not answer 200 on $url"
  done

  run_wrk node_exporter "http://127.0.0.1:$node_port/metrics"
  local node_rps=$wrk_rps node_p99=$wrk_p99_ms node_bad=$wrk_bad node_detail=$wrk_detail node_ok=$wrk_ok_rps
  # The peer may still be working off queued scrapes; stop it so it does not load the next runs.
  stop_pid "$node_pid"; node_pid=""
  sleep 1
  run_wrk stats "$stats_path" "$auth"
  local stats_rps=$wrk_rps stats_p99=$wrk_p99_ms stats_bad=$wrk_bad
  run_wrk processes "$proc_path" "$auth"
  local proc_rps=$wrk_rps proc_p99=$wrk_p99_ms proc_bad=$wrk_bad
  stop_hostprint

  row http "peer: node_exporter /metrics" "$(fmt %.1f "$node_rps") req/s, p99 $(fmt %.1f "$node_p99") ms" "-" "info"
  # The peer sheds load with fast 503s (its in-flight limit): wrk counts them in Requests/sec, so
  # the ratios below, taken against that figure, are if anything too kind to the peer.
  row http "peer: non-2xx answers + socket errors" "$node_bad$node_detail" "-" "info"
  row http "peer: 2xx answers only" "$(fmt %.1f "$node_ok") req/s" "-" "info"
  local name rps p99 bad ratio label
  for name in stats processes; do
    if [[ $name == stats ]]; then
      rps=$stats_rps p99=$stats_p99 bad=$stats_bad label="statistics"
    else
      rps=$proc_rps p99=$proc_p99 bad=$proc_bad label="process/statistics?limit=200"
    fi
    ratio=$(calc "$rps / $node_rps")
    row http "$label: req/s vs peer" "$(fmt %.0f "$rps") req/s = $(fmt %.1f "$ratio")x node_exporter" \
      ">= ${http_min_ratio}x" "$(verdict "$ratio >= $http_min_ratio")"
    row http "$label: p99 latency" "$(fmt %.2f "$p99") ms" "< $http_max_p99_ms ms" \
      "$(verdict "$p99 < $http_max_p99_ms")"
    row http "$label: errors" "$bad (non-2xx answers + socket errors)" "0" "$(verdict "$bad == 0")"
  done
}

# --- the 10,000 idle processes ---------------------------------------------------------------

start_swarm() {
  [[ -z $swarm_pid ]] || return 0
  log "starting $swarm_size idle processes in a new PID namespace"
  cc -O2 -static -o "$work/pause_swarm" "$source_root/bench/pause_swarm.c" 2>/dev/null ||
    cc -O2 -o "$work/pause_swarm" "$source_root/bench/pause_swarm.c" || die "cannot compile pause_swarm.c"
  rm -f "$work/swarm.ready"
  # In a subshell of its own, so the shell's "Killed" notice at the end goes to /dev/null.
  (unshare --pid --fork --mount-proc --kill-child=SIGKILL \
    "$work/pause_swarm" "$swarm_size" "$work/swarm.ready" >"$work/swarm.log" 2>&1 || true) 2>/dev/null &
  swarm_pid=$!
  local i
  for ((i = 0; i < 1200; i++)); do
    [[ -s $work/swarm.ready ]] && break
    kill -0 "$swarm_pid" 2>/dev/null || { cat "$work/swarm.log" >&2; die "the process swarm failed to start"; }
    sleep 0.1
  done
  [[ -s $work/swarm.ready ]] || die "the process swarm was not ready within 120 s"
  swarm_unshare=$(ps -o pid= --ppid "$swarm_pid" | tr -d ' ' | head -n 1)
  [[ -n $swarm_unshare ]] && swarm_init=$(ps -o pid= --ppid "$swarm_unshare" | tr -d ' ' | head -n 1)
  [[ -n $swarm_init ]] || die "cannot find the namespace's pid 1"
  local children
  children=$(ps -o pid= --ppid "$swarm_init" | wc -l)
  ((children == swarm_size)) || die "expected $swarm_size processes in the namespace, found $children"
  log "swarm ready: namespace pid 1 is $swarm_init; $(ps -e --no-headers | wc -l) processes on the host now"
}

# --- 2. scan CPU -----------------------------------------------------------------------------

result_of() { awk -v key="$1" '$1 == "RESULT" && $2 == key { print $3 }' "$2"; }
median_result() {  # median_result KEY FILE...: median of that result over the files
  local key=$1 values
  shift
  mapfile -t values < <(awk -v key="$key" '$1 == "RESULT" && $2 == key { print $3 }' "$@")
  median "${values[@]}"
}

bench_scan() {
  start_swarm
  local r out
  local -a peers=() fulls=() rescans_cpu=() full_ratios=() rescan_ratios=() procs=()
  local -A coll_full=() coll_rescan=()
  for ((r = 1; r <= scan_rounds; r++)); do
    out=$work/scan-$r.txt
    log "scan round $r of $scan_rounds: peers (3 runs each), then hostprint full scan + $rescans rescans"
    "$scan_bench" peers --rounds 3 >"$out" || die "scan_bench peers failed"
    "$scan_bench" scan --rescans "$rescans" >>"$out" || die "scan_bench scan failed"
    sed 's/^/    /' "$out" | grep -v RESULT >&2 || true
    local peer full rescan
    peer=$(result_of peers_cpu_ms "$out")
    full=$(result_of full_cpu_ms "$out")
    rescan=$(result_of rescan_cpu_ms "$out")
    peers+=("$peer") fulls+=("$full") rescans_cpu+=("$rescan")
    procs+=("$(result_of process_num "$out")")
    full_ratios+=("$(calc "$full / $peer")")
    rescan_ratios+=("$(calc "$rescan / $full")")
    local key name
    while read -r _ key value; do
      name=${key#*.}
      case $key in
        full_collector_ms.*) coll_full[$name]+="$value " ;;
        rescan_collector_ms.*) coll_rescan[$name]+="$value " ;;
      esac
    done < <(grep '^RESULT [a-z_]*collector_ms\.' "$out")
  done
  local m_peer m_full m_rescan m_full_ratio m_rescan_ratio m_procs
  m_peer=$(median "${peers[@]}")
  m_full=$(median "${fulls[@]}")
  m_rescan=$(median "${rescans_cpu[@]}")
  m_full_ratio=$(median "${full_ratios[@]}")
  m_rescan_ratio=$(median "${rescan_ratios[@]}")
  m_procs=$(median "${procs[@]}")
  local ps_cpu ss_cpu getent_cpu
  ps_cpu=$(median_result peer_cpu_ms.ps "$work"/scan-*.txt)
  ss_cpu=$(median_result peer_cpu_ms.ss "$work"/scan-*.txt)
  getent_cpu=$(median_result peer_cpu_ms.getent "$work"/scan-*.txt)

  row scan "processes hostprint saw (whole host)" "$(fmt %.0f "$m_procs")" ">= $swarm_size" \
    "$(verdict "$m_procs >= $swarm_size")"
  row scan "peer CPU: ps + ss + getent" \
    "$(fmt %.1f "$m_peer") ms (ps $(fmt %.1f "$ps_cpu"), ss $(fmt %.1f "$ss_cpu"), getent $(fmt %.1f "$getent_cpu"))" "-" "info"
  row scan "full scan CPU vs peer" "$(fmt %.1f "$m_full") ms = $(fmt %.3f "$m_full_ratio")x peer" \
    "<= ${scan_max_full_ratio}x" "$(verdict "$m_full_ratio <= $scan_max_full_ratio")"
  row scan "rescan CPU (median of $rescans) vs full scan" \
    "$(fmt %.1f "$m_rescan") ms = $(fmt %.3f "$m_rescan_ratio")x full" \
    "<= ${scan_max_rescan_ratio}x" "$(verdict "$m_rescan_ratio <= $scan_max_rescan_ratio")"
  local name
  for name in $(printf '%s\n' "${!coll_full[@]}" | sort); do
    # shellcheck disable=SC2086
    row scan "  $name wall ms: full / rescan" \
      "$(fmt %.2f "$(median ${coll_full[$name]})") / $(fmt %.2f "$(median ${coll_rescan[$name]:-0})")" "-" "info"
  done
  log "scan ratios per round: full/peers ${full_ratios[*]}; rescan/full ${rescan_ratios[*]}"
}

# --- 3. memory -------------------------------------------------------------------------------

bench_memory() {
  start_swarm
  log "memory: hostprint serve with $(ps -e --no-headers | wc -l) processes on the host, $sighups SIGHUP rescans"
  start_hostprint
  local first after_first last max=0 gen new i waited rss
  local -a samples=()
  first=$(rss_kib "$hostprint_pid" VmRSS)
  max=$first
  for ((i = 1; i <= sighups; i++)); do
    gen=$(generation) || die "hostprint stopped answering /status"
    kill -HUP "$hostprint_pid"
    for ((waited = 0; ; waited++)); do
      new=$(generation) || die "hostprint stopped answering /status after SIGHUP $i"
      ((new > gen)) && break
      ((waited < 3000)) || die "no rescan within 60 s after SIGHUP $i"
      sleep 0.02
    done
    rss=$(rss_kib "$hostprint_pid" VmRSS)
    samples+=("$rss")
    ((i == 1)) && after_first=$rss
    ((rss > max)) && max=$rss
    last=$rss
    ((i % 25 == 0)) && log "  after $i rescans: VmRSS $rss KiB (generation $new)"
  done
  local hwm status
  hwm=$(rss_kib "$hostprint_pid" VmHWM)
  status=$(hp_curl /status)
  stop_hostprint
  local growth=$((last - after_first))
  local half=$((sighups / 2)) second_min second_max
  second_min=$(printf '%s\n' "${samples[@]:half}" | sort -n | head -n 1)
  second_max=$(printf '%s\n' "${samples[@]:half}" | sort -n | tail -n 1)
  local series="" k
  for ((k = 9; k < sighups; k += 10)); do series+="$(fmt %.1f "${samples[k]} / 1024") "; done
  log "VmRSS MiB after every 10th rescan: $series"
  mib() { fmt %.2f "$1 / 1024"; }
  row memory "VmRSS after first scan" "$(mib "$first") MiB" "<= 16 MiB" "$(verdict "$first <= $mem_max_rss_kib")"
  row memory "VmRSS max over $sighups rescans (sampled)" "$(mib "$max") MiB" "<= 16 MiB" \
    "$(verdict "$max <= $mem_max_rss_kib")"
  row memory "VmRSS last - after first rescan" "$(mib "$after_first") -> $(mib "$last") MiB: +$growth KiB" \
    "<= 1 MiB" "$(verdict "$growth <= $mem_max_growth_kib")"
  row memory "VmRSS rescans $((half + 1))-$sighups: min..max" \
    "$(mib "$second_min")..$(mib "$second_max") MiB (drift $((last - samples[half])) KiB)" "-" "info"
  row memory "VmRSS every 10th rescan, MiB" "$series" "-" "info"
  row memory "VmHWM (kernel's peak, approximate)" "$(mib "$hwm") MiB" "-" "info"
  local collector us
  while read -r collector us; do
    row memory "  $collector wall ms (serve, last rescan)" "$(awk -v us="$us" 'BEGIN{printf "%.2f", us/1000}')" "-" "info"
  done < <(printf '%s' "$status" | grep -o '"name":"[a-z_]*"\|"duration_us":[0-9]*' |
    sed 's/^"[a-z_]*":"\{0,1\}//; s/"$//' | paste -d' ' - -)
}

# --- main ------------------------------------------------------------------------------------

work=$(mktemp -d /tmp/hostprint-bench.XXXXXX)
chmod 700 "$work"
ensure_tools
build
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$token" >"$work/token")

case $mode in
  http) bench_http ;;
  scan) bench_scan ;;
  memory) bench_memory ;;
  all) bench_http; bench_scan; bench_memory ;;
esac
stop_swarm
print_table
((failures == 0)) || exit 1
