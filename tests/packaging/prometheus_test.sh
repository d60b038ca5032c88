#!/usr/bin/env bash
# The Prometheus files of packaging/prometheus/ checked with promtool; TAP on stdout, one line per
# check: the example configuration (with the files it names made in a scratch copy), the rules,
# their unit tests, and that every recording rule and alert has a test.
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
trap 'rm -rf "$run"' EXIT
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

echo "1..$checks"
[ "$failures" -eq 0 ]
