#!/bin/bash
# Fleet latency at scale: the exposition of N simulated hosts (real-looking: the twelve counts for
# both categories, ~50 process paths, collectors, RASP, scan times) pushed into a fresh
# VictoriaMetrics through its import API, then each `hostprint fleet` endpoint asked REQUESTS
# times with the answers' cache off (every request queries the engine) and on (the default).
#
#   bench/fleet.sh [HOSTS...]            default: 1000 10000
#   HOSTPRINT_BIN=build/hostprint REQUESTS=50 bench/fleet.sh 1000
#
# Prints, per fleet size and endpoint, the median and p99 latency, and the engine's RSS.
set -euo pipefail

HOSTPRINT_BIN=${HOSTPRINT_BIN:-build/hostprint}
REQUESTS=${REQUESTS:-50}
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

printf 'fleet-bench-token\n' > "$WORK/token"
chmod 600 "$WORK/token"

for hosts in "${SIZES[@]}"; do
  vm_port=$(free_port)
  "$VM" -storageDataPath="$WORK/vm-$hosts" -httpListenAddr=127.0.0.1:$vm_port \
    -retentionPeriod=1d -search.latencyOffset=0s -loggerLevel=ERROR > "$WORK/vm-$hosts.log" 2>&1 &
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

  for cache_ms in 0 2000; do
    fleet_port=$(free_port)
    printf '{"fleet": {"cache_ms": %d}}\n' "$cache_ms" > "$WORK/fleet.json"
    "$HOSTPRINT_BIN" fleet --prometheus "http://127.0.0.1:$vm_port" --config "$WORK/fleet.json" \
      --listen 127.0.0.1:$fleet_port --token-file "$WORK/token" --log-level warning \
      > "$WORK/fleet.log" 2>&1 &
    fleet_pid=$!
    PIDS+=("$fleet_pid")
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$fleet_port/" && break; sleep 0.1; done
    python3 - "$fleet_port" "$REQUESTS" "$hosts" "$cache_ms" <<'EOF'
import http.client, statistics, sys, time
port, n, hosts, cache_ms = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
targets = ["/v5/p/asset/statistics", "/v5/p/asset/statistics?host_id=host-000042",
           "/v5/p/asset/process/statistics?limit=200",
           "/v5/p/asset/process/statistics?path=java&enterprise_project_id=eps-3",
           "/v5/p/rasp/statistics"]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for t in targets:
    times, status = [], set()
    for _ in range(n):
        start = time.perf_counter()
        conn.request("GET", t, headers={"X-Auth-Token": "fleet-bench-token"})
        r = conn.getresponse(); body = r.read()
        times.append((time.perf_counter() - start) * 1000)
        status.add(r.status)
    times.sort()
    p99 = times[min(len(times) - 1, int(round(0.99 * len(times))) - 1)]
    print("hosts=%s cache_ms=%s %-70s status=%s median=%7.1f ms p99=%7.1f ms body=%d B" % (
        hosts, cache_ms, t, ",".join(map(str, sorted(status))), statistics.median(times), p99, len(body)))
EOF
    echo "hosts=$hosts cache_ms=$cache_ms fleet RSS $(rss_mib $fleet_pid) MiB, engine RSS $(rss_mib $vm_pid) MiB"
    kill "$fleet_pid"; wait "$fleet_pid" 2>/dev/null || true
  done
  kill "$vm_pid"; wait "$vm_pid" 2>/dev/null || true
done
