#!/usr/bin/env bash
# The Prometheus files of packaging/prometheus/ checked with promtool; TAP on stdout, one line per
# check: the example configuration (with the files it names made in a scratch copy), the rules,
# their unit tests, that every recording rule and alert has a test, and Prometheus run with the
# example scraping a TLS target with the token and recording the fleet's figures.
set -uo pipefail
source_root=${HOSTPRINT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
files=$source_root/packaging/prometheus

checks=0
failures=0
ok() { checks=$((checks + 1)); echo "ok $checks - $1"; }
not_ok() {
  checks=$((checks + 1)); failures=$((failures + 1))
  echo "not ok $checks - $1"
  [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/# /' | head -60
  return 0
}
check() {
  local description=$1 output
  shift
  if output=$("$@" 2>&1); then ok "$description"; else not_ok "$description" "$output"; fi
}

# promtool comes with Debian's prometheus package (scripts/deps.sh, TEST_PACKAGES).
if ! command -v promtool >/dev/null; then
  echo "1..0 # SKIP promtool is missing (scripts/deps.sh installs prometheus)"
  exit 0
fi

run=$(mktemp -d)
agent_pid="" prometheus_pid=""
cleanup() {
  for pid in $agent_pid $prometheus_pid; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
cp "$files"/prometheus.yml "$files"/hostprint.rules.yml "$files"/hostprint.rules.test.yml "$run/"

check "promtool check rules hostprint.rules.yml" promtool check rules "$run/hostprint.rules.yml"

# promtool wants the token and CA files the example names to exist: the copy names files made
# here instead, and a target file written as the example's comment shows.
sed -i "s|/etc/prometheus/hostprint\.token|$run/hostprint.token|
        s|/etc/prometheus/hostprint-ca\.pem|$run/hostprint-ca.pem|
        s|/etc/prometheus/hostprint-targets/|$run/targets/|" "$run/prometheus.yml"
echo 0123456789abcdef >"$run/hostprint.token"
touch "$run/hostprint-ca.pem"
mkdir "$run/targets"
sed -n "s|^ *#   \(- targets: \[.*\]\)$|\1|p" "$files/prometheus.yml" >"$run/targets/web.yml"
if [ -s "$run/targets/web.yml" ] && grep -q "$run" "$run/prometheus.yml"; then
  check "promtool check config prometheus.yml (its rule file and target files included)" \
    promtool check config "$run/prometheus.yml"
else
  not_ok "promtool check config prometheus.yml" "the example's file paths or target example moved"
fi
job=$(sed -n 's/^ *- job_name: *//p' "$files/prometheus.yml")
[ "$job" = hostprint ] && grep -q 'up{job="hostprint"}' "$files/hostprint.rules.yml" &&
  ok "the example's one scrape job is the job the rules watch (hostprint)" ||
  not_ok "the example's one scrape job is the job the rules watch (hostprint)" "jobs: $job"

check "promtool test rules hostprint.rules.test.yml" promtool test rules "$run/hostprint.rules.test.yml"

# A rule without a test could be broken unnoticed: each recorded series must be an expr of a
# promql_expr_test, each alert the alertname of an alert_rule_test.
untested=""
for name in $(sed -n 's/^ *- record: *//p' "$files/hostprint.rules.yml"); do
  grep -qE "^ *- expr: *$name *$" "$files/hostprint.rules.test.yml" || untested+=" $name"
done
for name in $(sed -n 's/^ *- alert: *//p' "$files/hostprint.rules.yml"); do
  grep -qE "^ *- alertname: *$name *$" "$files/hostprint.rules.test.yml" || untested+=" $name"
done
rules=$(grep -cE '^ *- (record|alert):' "$files/hostprint.rules.yml")
[ -z "$untested" ] && [ "$rules" -gt 0 ] && ok "every one of the $rules rules has a unit test" ||
  not_ok "every recording rule and alert has a unit test" "untested:$untested"

# The example configuration for real: Prometheus scrapes a stand-in agent over TLS that answers
# only with the token (each series as the agent exposes it), and evaluates the rules. Only the
# intervals (1 s), the files and the targets differ from the example.
for tool in prometheus openssl curl; do
  command -v "$tool" >/dev/null || { not_ok "$tool is missing (scripts/deps.sh installs it)"; }
done
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$run/agent.key" -out "$run/hostprint-ca.pem" \
  >/dev/null 2>&1
agent_port=$(free_port)
python3 - "$agent_port" "$run" <<'AGENT' >"$run/agent.log" 2>&1 &
import http.server, ssl, sys
port, run = int(sys.argv[1]), sys.argv[2]
token = open(run + "/hostprint.token").read().strip()
labels = 'host_id="h1",enterprise_project_id="0"'
body = (f'# HELP hostprint_accounts Accounts.\n# TYPE hostprint_accounts gauge\n'
        f'hostprint_accounts{{{labels},category="host"}} 26\n'
        f'hostprint_accounts{{{labels},category="container"}} 4\n'
        f'# HELP hostprint_processes Processes per path.\n# TYPE hostprint_processes gauge\n'
        f'hostprint_processes{{{labels},category="host",path="/usr/sbin/sshd"}} 2\n').encode()
class Agent(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != "Bearer " + token:
            self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = http.server.HTTPServer(("127.0.0.1", port), Agent)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(run + "/hostprint-ca.pem", run + "/agent.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
AGENT
agent_pid=$!
echo "- targets: ['127.0.0.1:$agent_port']" >"$run/targets/web.yml"
sed -i 's/^\(  *[a-z_]*interval:\) 60s$/\1 1s/; s/^\(  *scrape_timeout:\) 10s$/\1 1s/
        /^    static_configs:/,$d' "$run/prometheus.yml"
prometheus_port=$(free_port)
prometheus --config.file="$run/prometheus.yml" --storage.tsdb.path="$run/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$run/prometheus.log" 2>&1 &
prometheus_pid=$!
# query EXPR: the first sample's value, or nothing.
query() {
  curl -s -m 5 -G "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}
up="" accounts="" hosts=""
# Up to 60 s: the first scrape and rule evaluation come within a second or two of the start.
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
  up=$(query "up{job=\"hostprint\",instance=\"127.0.0.1:$agent_port\"}")
  if [ "$up" = 1 ]; then
    accounts=$(query 'category:hostprint_accounts:sum{category="host"}')
    hosts=$(query 'category_path:hostprint_processes:count{path="/usr/sbin/sshd"}')
    [ "$accounts" = 26 ] && [ "$hosts" = 1 ] && break
  fi
  sleep 1
done
[ "$up" = 1 ] && ok "Prometheus with the example's job scrapes an https target with the token" ||
  not_ok "Prometheus with the example's job scrapes an https target with the token" \
    "up: ${up:-none}
$(tail -5 "$run/prometheus.log")
$(tail -5 "$run/agent.log")"
[ "$accounts" = 26 ] && [ "$hosts" = 1 ] &&
  ok "its rules record the fleet's figures from the scraped series" ||
  not_ok "its rules record the fleet's figures from the scraped series" \
    "accounts: ${accounts:-none}, hosts running sshd: ${hosts:-none}"

echo "1..$checks"
[ "$failures" -eq 0 ]
