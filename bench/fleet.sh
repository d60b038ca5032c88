#!/bin/bash
# Fleet latency at scale: the exposition of N simulated hosts (real-looking: the twelve counts for
# both categories, ~50 process paths, collectors, RASP, scan times) pushed into a fresh
# VictoriaMetrics through its import API, then each `hostprint fleet` endpoint asked
# REQUESTS_UNCACHED times with the answers' cache off (cache_ms and max_stale_ms 0: every request
# queries the engine) and REQUESTS times with the defaults (answers refreshed in the background).
#
#   bench/fleet.sh [HOSTS...]            default: 1000 10000
#   HOSTPRINT_BIN=build/hostprint REQUESTS=50 REQUESTS_UNCACHED=10 bench/fleet.sh 1000
#   MODES=default bench/fleet.sh 10000
#
# Prints, per fleet size and endpoint, the median and p99 latency; with the defaults also how long
# the first answer took after start (the engine queried cold) and how long the engine queries took
# (an answer is at most cache_ms plus that old); the engine's RSS and peak RSS.
# The import stamps one snapshot, so --max-age is 3600 here: the hosts stay in the fleet for the
# whole run. -search.maxUniqueTimeseries is raised: hosts per path reads every
# hostprint_processes series (10,000 hosts x ~60 paths), past VictoriaMetrics' default of 300,000;
# and -search.maxQueryDuration (default 30s), which that query passes on a loaded machine.
set -euo pipefail

HOSTPRINT_BIN=${HOSTPRINT_BIN:-build/hostprint}
REQUESTS=${REQUESTS:-50}
REQUESTS_UNCACHED=${REQUESTS_UNCACHED:-10}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000)
VM=${VM:-/usr/bin/victoria-metrics}
[ -x "$HOSTPRINT_BIN" ] || { echo "no $HOSTPRINT_BIN (set HOSTPRINT_BIN)" >&2; exit 1; }
[ -x "$VM" ] || { echo "no $VM (apt-get install victoria-metrics)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/hostprint-fleet-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ok() {  # URL
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2; return 1
}
rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mib() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

printf 'fleet-bench-token\n' > "$WORK/token"
chmod 600 "$WORK/token"

for hosts in "${SIZES[@]}"; do
  vm_port=$(free_port)
  "$VM" -storageDataPath="$WORK/vm-$hosts" -httpListenAddr=127.0.0.1:$vm_port \
    -retentionPeriod=1d -search.latencyOffset=0s -search.maxUniqueTimeseries=5000000 \
    -search.maxQueryDuration=120s -loggerLevel=ERROR > "$WORK/vm-$hosts.log" 2>&1 &
  vm_pid=$!
  PIDS+=("$vm_pid")
  wait_ok "http://127.0.0.1:$vm_port/health"

  start=$(date +%s.%N)
  python3 - "$hosts" "http://127.0.0.1:$vm_port/api/v1/import/prometheus" <<'EOF'
import random, sys, time, urllib.request
hosts, url = int(sys.argv[1]), sys.argv[2]
rng = random.Random(42)
counts = ["accounts", "ports", "running_processes", "apps", "auto_launches", "web_frameworks",
          "web_sites", "jar_packages", "kernel_modules", "web_services", "web_apps", "databases"]
collectors = ["accounts", "ports", "processes", "software", "auto_start", "web_frameworks",
              "web_sites", "jar_packages", "kernel_modules", "services", "web_apps", "databases",
              "containers", "rasp"]
common = ["/usr/sbin/sshd", "/usr/lib/systemd/systemd", "/usr/lib/systemd/systemd-journald",
          "/usr/lib/systemd/systemd-logind", "/usr/lib/systemd/systemd-udevd", "/usr/sbin/cron",
          "/usr/sbin/rsyslogd", "/usr/bin/dbus-daemon", "/usr/bin/bash", "/usr/sbin/agetty",
          "/usr/bin/hostprint", "/usr/sbin/chronyd", "/usr/bin/containerd", "/usr/bin/dockerd"]
pool = ["/opt/app%d/bin/server" % i for i in range(400)] + \
       ["/usr/lib/jvm/java-%d/bin/java" % v for v in (8, 11, 17, 21)] + \
       ["/usr/sbin/nginx", "/usr/sbin/apache2", "/usr/bin/python3.11", "/usr/bin/node",
        "/usr/sbin/mysqld", "/usr/lib/postgresql/15/bin/postgres", "/usr/bin/redis-server"]
now = time.time()
def host_text(i):
    ids = 'host_id="host-%06d",enterprise_project_id="eps-%d",instance="10.%d.%d.%d:9779",job="hostprint"' % (
        i, i % 8, (i >> 16) & 255, (i >> 8) & 255, i & 255)
    out = []
    for c in counts:
        out.append('hostprint_%s{%s,category="host"} %d' % (c, ids, rng.randint(0, 900)))
        out.append('hostprint_%s{%s,category="container"} %d' % (c, ids, rng.randint(0, 50)))
    for p in common + rng.sample(pool, 36):
        out.append('hostprint_processes{%s,category="host",path="%s"} %d' % (ids, p, rng.randint(1, 20)))
    for p in rng.sample(pool, 10):
        out.append('hostprint_processes{%s,category="container",path="%s"} %d' % (ids, p, rng.randint(1, 5)))
    out.append('hostprint_process_paths_dropped{%s,category="host"} 0' % ids)
    out.append('hostprint_process_paths_dropped{%s,category="container"} 0' % ids)
    for c in collectors:
        out.append('hostprint_collector_duration_seconds{%s,collector="%s"} %.4f' % (ids, c, rng.random() / 10))
        out.append('hostprint_collector_success{%s,collector="%s"} 1' % (ids, c))
        out.append('hostprint_collector_items{%s,collector="%s"} %d' % (ids, c, rng.randint(0, 900)))
    out.append('hostprint_rasp_protected{%s} %d' % (ids, 1 if i % 5 == 0 else 0))
    out.append('hostprint_rasp_blocked_attacks{%s} %d' % (ids, rng.randint(0, 10)))
    out.append('hostprint_scan_timestamp_seconds{%s} %.3f' % (ids, now - rng.randint(1, 60)))
    out.append('hostprint_scan_duration_seconds{%s} %.3f' % (ids, rng.random()))
    out.append('hostprint_scan_interval_seconds{%s} 60' % ids)
    out.append('hostprint_build_info{%s,version="0.1.0"} 1' % ids)
    return "\n".join(out) + "\n"
batch, series = [], 0
for i in range(hosts):
    t = host_text(i)
    series += t.count("\n")
    batch.append(t)
    if len(batch) == 500 or i == hosts - 1:
        urllib.request.urlopen(urllib.request.Request(url, data="".join(batch).encode()), timeout=300).read()
        batch = []
print("imported %d hosts, %d series" % (hosts, series))
EOF
  curl -sf -o /dev/null "http://127.0.0.1:$vm_port/internal/force_flush"
  echo "import took $(echo "$(date +%s.%N) - $start" | bc) s"

  for mode in ${MODES:-uncached default}; do
    fleet_port=$(free_port)
    if [ $mode = uncached ]; then
      printf '{"fleet": {"cache_ms": 0, "max_stale_ms": 0, "max_age_s": 3600}}\n' > "$WORK/fleet.json"
      n=$REQUESTS_UNCACHED
    else
      printf '{"fleet": {"max_age_s": 3600}}\n' > "$WORK/fleet.json"
      n=$REQUESTS
    fi
    "$HOSTPRINT_BIN" fleet --prometheus "http://127.0.0.1:$vm_port" --config "$WORK/fleet.json" \
      --listen 127.0.0.1:$fleet_port --token-file "$WORK/token" --log-level debug \
      > "$WORK/fleet-$hosts-$mode.log" 2>&1 &
    fleet_pid=$!
    PIDS+=("$fleet_pid")
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$fleet_port/" && break; sleep 0.1; done
    python3 - "$fleet_port" "$n" "$hosts" "$mode" <<'EOF'
import http.client, statistics, sys, time
port, n, hosts, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
targets = ["/v5/p/asset/statistics", "/v5/p/asset/statistics?host_id=host-000042",
           "/v5/p/asset/process/statistics?limit=200",
           "/v5/p/asset/process/statistics?path=java&enterprise_project_id=eps-3",
           "/v5/p/rasp/statistics"]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
def get(t):
    conn.request("GET", t, headers={"X-Auth-Token": "fleet-bench-token"})
    r = conn.getresponse()
    return r.status, r.read()
if mode == "default":
    # The queries are warmed at start: until every endpoint has answered once (a cold start).
    start = time.perf_counter()
    for t in targets:
        while get(t)[0] != 200:
            time.sleep(0.5)
    print("hosts=%s %s: first answer of every endpoint %.1f s after start" % (
        hosts, mode, time.perf_counter() - start))
for t in targets:
    times, status = [], set()
    for _ in range(n):
        start = time.perf_counter()
        code, body = get(t)
        times.append((time.perf_counter() - start) * 1000)
        status.add(code)
        if mode == "default":
            time.sleep(0.1)  # spread over time: answers go stale and are refreshed meanwhile
    times.sort()
    p99 = times[min(len(times) - 1, int(round(0.99 * len(times))) - 1)]
    print("hosts=%s %-8s %-70s status=%s median=%7.1f ms p99=%7.1f ms body=%d B" % (
        hosts, mode, t, ",".join(map(str, sorted(status))), statistics.median(times), p99, len(body)))
EOF
    echo "hosts=$hosts $mode: fleet RSS $(rss_mib $fleet_pid) MiB; engine RSS $(rss_mib $vm_pid) MiB, peak $(hwm_mib $vm_pid) MiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
    grep -o 'engine query took [0-9]* ms' "$WORK/fleet-$hosts-$mode.log" | awk '{ print $4 }' | sort -n |
      awk -v h="$hosts" -v m="$mode" '{ a[NR] = $1 } END { if (NR) printf "hosts=%s %s: %d engine queries, median %d ms, max %d ms\n", h, m, NR, a[int((NR + 1) / 2)], a[NR] }'
    echo "hosts=$hosts $mode: engine failures logged: $(grep -c 'engine query failed\|no answer from the engine' "$WORK/fleet-$hosts-$mode.log" || true)"
    kill "$fleet_pid"; wait "$fleet_pid" 2>/dev/null || true
  done
  kill "$vm_pid"; wait "$vm_pid" 2>/dev/null || true
done
