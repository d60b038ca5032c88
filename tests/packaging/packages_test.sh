#!/usr/bin/env bash
# The packages as users get them, checked with the real tools; TAP on stdout, one line per check.
#  - scripts/build-deb.sh and scripts/build-rpm.sh build them (lintian and rpmlint clean);
#  - the RPM's files, configuration files and library dependencies match the .deb's;
#  - the RPM's install scripts run for real (rpm --root) in a Debian 12 tree: user, token, state
#    folder, an upgrade that keeps the token, an erase that leaves nothing behind;
#  - the .deb is installed with apt into a Debian 12 tree (debootstrap, cached under
#    /var/cache/hostprint-boot-test) that then boots with systemd-nspawn: the service is active
#    and ready, answers with its generated token, reloads, is restarted when killed, stops
#    cleanly, scores at most 2.5 in "systemd-analyze security", and apt-get purge leaves nothing.
# Needs root and the network to a Debian mirror; anything missing fails, nothing is skipped.
set -uo pipefail
source_root=${HOSTPRINT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cache=${HOSTPRINT_BOOT_CACHE:-/var/cache/hostprint-boot-test}
mirror=${HOSTPRINT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The tree's contents: change the key when the list changes, so an old cache is not reused.
tree_key=bookworm-minbase-systemd-1
tree_packages=systemd,systemd-sysv,dbus

checks=0
failures=0
ok() { checks=$((checks + 1)); echo "ok $checks - $1"; }
not_ok() {
  checks=$((checks + 1)); failures=$((failures + 1))
  echo "not ok $checks - $1"
  [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/# /' | head -40
  return 0
}
# check DESCRIPTION COMMAND...: passes when the command succeeds; its output explains a failure.
check() {
  local description=$1 output
  shift
  if output=$("$@" 2>&1); then ok "$description"; else not_ok "$description" "$output"; fi
}
bail() {
  echo "Bail out! $1"
  exit 1
}

[ "$(id -u)" -eq 0 ] || bail "needs root (debootstrap, systemd-nspawn, rpm --root)"
for tool in debootstrap systemd-nspawn nsenter curl dpkg-deb rpm rpmbuild lintian rpmlint git man \
  objdump; do
  command -v "$tool" >/dev/null || bail "$tool is missing (scripts/deps.sh installs it)"
done

# Work folders are named after their test's pid; one whose test is gone (killed on a timeout)
# is removed here.
for stale in /var/tmp/hostprint-packages.*; do
  owner=${stale#/var/tmp/hostprint-packages.}
  owner=${owner%%.*}
  [ -d "$stale" ] && [[ $owner =~ ^[0-9]+$ ]] && ! kill -0 "$owner" 2>/dev/null && rm -rf "$stale"
done
run=$(mktemp -d "/var/tmp/hostprint-packages.$$.XXXXXX")
nspawn_pid=""
stop_container() {
  [ -n "$nspawn_pid" ] || return 0
  kill -TERM "$nspawn_pid" 2>/dev/null
  for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$nspawn_pid" 2>/dev/null
  wait "$nspawn_pid" 2>/dev/null
  nspawn_pid=""
}
rpm_build_pid=""
cleanup() {
  [ -n "$rpm_build_pid" ] && kill -- "-$rpm_build_pid" 2>/dev/null
  stop_container
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# --- building -----------------------------------------------------------------------------------
cd "$source_root" || bail "no source tree at $source_root"
# HOSTPRINT_PACKAGES_BUILT=1 checks the packages already in dist/ instead of building them again.
# The two builds run side by side, one compiler each, so the serial steps of one (lintian,
# rpmlint, packing) overlap the compiling of the other.
if [ "${HOSTPRINT_PACKAGES_BUILT:-}" != 1 ]; then
  # A process group of its own, so that cleanup can stop the whole build.
  HOSTPRINT_BUILD_JOBS=1 setsid "$source_root/scripts/build-rpm.sh" >"$run/build-rpm.log" 2>&1 &
  rpm_build_pid=$!
  HOSTPRINT_BUILD_JOBS=1 "$source_root/scripts/build-deb.sh" >"$run/build-deb.log" 2>&1
  deb_status=$?
  wait "$rpm_build_pid"
  rpm_status=$?
  rpm_build_pid=""
  [ $deb_status -eq 0 ] && ok "build-deb.sh builds the .deb, lintian without errors or warnings" ||
    not_ok "build-deb.sh builds the .deb, lintian without errors or warnings" \
      "$(tail -30 "$run/build-deb.log")"
  [ $rpm_status -eq 0 ] && ok "build-rpm.sh builds the .rpm, rpmlint without errors or warnings" ||
    not_ok "build-rpm.sh builds the .rpm, rpmlint without errors or warnings" \
      "$(tail -30 "$run/build-rpm.log")"
fi
version=$(sed -n "s/^  version : '\([^']*\)',/\1/p" meson.build)
deb=$(ls dist/hostprint_"$version"-*_*.deb 2>/dev/null | head -1)
rpm_file=$(ls dist/hostprint-"$version"-*.rpm 2>/dev/null | grep -v '\.src\.rpm$' | head -1)
[ -f dist/hostprint-"$version".tar.xz ] && ok "build-source.sh made the source tarball" ||
  not_ok "build-source.sh made the source tarball"
[ -n "$deb" ] && [ -n "$rpm_file" ] || bail "no .deb or .rpm to check (see the build logs above)"

# --- the RPM against the .deb -------------------------------------------------------------------
# Package files with the distribution's differences taken out: bookworm's units live in
# /lib/systemd/system, the architecture's libraries in /usr/lib/x86_64-linux-gnu where Fedora has
# /usr/lib64 (both shown as /usr/LIBDIR), and Debian adds its changelog and copyright under
# /usr/share/doc and the lintian overrides under /usr/share/lintian.
deb_files() {
  dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|; s|/$||' | grep -v '^/$' |
    sed 's|^/lib/systemd/|/usr/lib/systemd/|; s|^/usr/lib/x86_64-linux-gnu/|/usr/LIBDIR/|' |
    grep -vE '^/usr/share/lintian(/|$)|^/usr/share/doc/hostprint/(changelog\.Debian\.gz|copyright)$' |
    sort
}
# RPM adds links from build ids to the executable (/usr/lib/.build-id), which dpkg has no use for.
rpm_files() {
  rpm -qlp "$rpm_file" | sed 's|^/lib/systemd/|/usr/lib/systemd/|; s|^/usr/lib64/|/usr/LIBDIR/|' |
    grep -v '^/usr/lib/\.build-id' |
    sort
}
deb_dirs() { dpkg-deb -c "$deb" | awk '$1 ~ /^d/ {print $6}' | sed 's|^\./|/|; s|/$||'; }
# Directories the RPM owns are listed by rpm -ql like files; compare only leaf files.
leaf_files() {
  grep -v -x -F -f <(deb_dirs |
    sed 's|^/lib/systemd/|/usr/lib/systemd/|; s|^/usr/lib/x86_64-linux-gnu/|/usr/LIBDIR/|')
}
deb_leaves=$(deb_files | leaf_files)
rpm_leaves=$(rpm_files | leaf_files)
if [ "$deb_leaves" = "$rpm_leaves" ] && [ -n "$deb_leaves" ]; then
  ok "the RPM and the .deb carry the same files ($(wc -l <<<"$deb_leaves"))"
else
  not_ok "the RPM and the .deb carry the same files" \
    "$(diff <(echo "$deb_leaves") <(echo "$rpm_leaves"))"
fi
for path in /usr/bin/hostprint /usr/LIBDIR/hostprint/hostprint-tls.so /etc/hostprint/hostprint.json /usr/share/hostprint/fingerprints.json \
  /usr/lib/systemd/system/hostprint.service /usr/lib/sysusers.d/hostprint.conf \
  /usr/share/man/man1/hostprint.1.gz; do
  grep -qxF "$path" <<<"$deb_leaves" && ok "the packages install $path" ||
    not_ok "the packages install $path"
done
# The Prometheus examples are documentation in both, uncompressed (dh_compress leaves .yml alone).
# The listings are read whole first: `grep -q` ending a pipe early would fail it under pipefail.
deb_listing=$(dpkg-deb -c "$deb" | awk '{print $6}')
rpm_docs=$(rpm -qdp "$rpm_file")
for name in prometheus.yml hostprint.rules.yml hostprint.rules.test.yml; do
  path=/usr/share/doc/hostprint/prometheus/$name
  grep -qxF ".$path" <<<"$deb_listing" && grep -qxF "$path" <<<"$rpm_docs" &&
    ok "the packages install $path as documentation" ||
    not_ok "the packages install $path as documentation"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$run/deb-conffiles" 2>/dev/null
rpm -qcp "$rpm_file" >"$run/rpm-conffiles"
if [ "$(cat "$run/deb-conffiles")" = /etc/hostprint/hostprint.json ] &&
  [ "$(cat "$run/rpm-conffiles")" = /etc/hostprint/hostprint.json ]; then
  ok "the configuration is the one conffile of both packages"
else
  not_ok "the configuration is the one conffile of both packages" \
    "deb: $(cat "$run/deb-conffiles") rpm: $(cat "$run/rpm-conffiles")"
fi
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm_file" 2>/dev/null |
  grep -q '^cn /etc/hostprint/hostprint.json$' &&
  ok "the RPM keeps local edits of the configuration (%config(noreplace))" ||
  not_ok "the RPM keeps local edits of the configuration (%config(noreplace))"

mkdir -p "$run/deb-extract"
dpkg-deb -x "$deb" "$run/deb-extract"
man_warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l \
  "$run/deb-extract/usr/share/man/man1/hostprint.1.gz" 2>&1 >/dev/null)
[ $? -eq 0 ] && [ -z "$man_warnings" ] && ok "hostprint(1) renders without a warning" ||
  not_ok "hostprint(1) renders without a warning" "$man_warnings"

# Every library the executable needs is a dependency of both packages: sonames in the RPM, the
# Debian packages holding those libraries in the .deb.
needed=$(objdump -p "$run/deb-extract/usr/bin/hostprint" | awk '$1 == "NEEDED" {print $2}' | sort)
rpm_requires=$(rpm -qp --requires "$rpm_file")
deb_depends=$(dpkg-deb -f "$deb" Depends)
# One package name a line, alternatives and version constraints taken apart.
deb_depend_names=$(tr ',|' '\n\n' <<<"$deb_depends" | sed 's/(.*//; s/[[:space:]]//g')
missing=""
for soname in $needed; do
  grep -q "^$soname" <<<"$rpm_requires" || missing+=" rpm:$soname"
  library=$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64|64bit/ {print $NF; exit}')
  owner=""
  # With merged /usr, dpkg knows a library by whichever path its package ships.
  for path in "$(readlink -f "$library")" "$library"; do
    for candidate in "$path" "${path#/usr}" "/usr$path"; do
      [ -z "$owner" ] && owner=$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1)
    done
  done
  [ -n "$owner" ] && grep -qxF "$owner" <<<"$deb_depend_names" || missing+=" deb:$soname($owner)"
done
if [ -n "$needed" ] && [ -z "$missing" ]; then
  ok "both packages depend on every library hostprint links ($(echo $needed | wc -w))"
else
  not_ok "both packages depend on every library hostprint links" \
    "missing:$missing; deb Depends: $deb_depends"
fi
grep -q '^systemd' <<<"$deb_depends" && grep -q '^systemd' <<<"$(rpm -qp --requires "$rpm_file" |
  grep -v '^rpmlib')" && ok "both packages depend on systemd for their install scripts" ||
  not_ok "both packages depend on systemd for their install scripts" "$deb_depends"

# --- the Debian 12 tree -------------------------------------------------------------------------
tree=$cache/$tree_key
if [ ! -e "$tree/.complete" ]; then
  mkdir -p "$cache"
  rm -rf "$tree.new"
  if debootstrap --variant=minbase --include="$tree_packages" bookworm "$tree.new" "$mirror" \
    >"$run/debootstrap.log" 2>&1; then
    touch "$tree.new/.complete"
    rm -rf "$tree"
    mv "$tree.new" "$tree"
  else
    bail "debootstrap of Debian 12 failed: $(tail -3 "$run/debootstrap.log" | tr '\n' ' ')"
  fi
fi
ok "a Debian 12 tree with systemd ($tree)"

# Paths after an install and its removal that were not there before, less what any boot or apt
# run leaves (logs, caches, package lists, systemd's own state).
new_leftovers() {
  local root=$1 before=$2
  (cd "$root" && find . -xdev | sed 's|^\.||' | sort) >"$run/after"
  comm -13 "$before" "$run/after" |
    grep -vE '^/(proc|sys|dev|run|tmp|var/tmp|var/log|var/cache|var/lib/apt|var/lib/dpkg|var/lib/systemd|var/lib/dbus|var/lib/rpm|root)(/|$)' |
    grep -vE '^/etc/(machine-id|ld\.so\.cache|hostprint-test\.deb)$|^/hostprint-test\.deb$|^/etc/[a-z]+-$'
}
owned_by_uid() { find "$1" -xdev -uid "$2" 2>/dev/null | head -5; }

# --- the RPM's scripts, run by rpm itself into a copy of the tree --------------------------------
rpm_root=$run/rpm-root
cp -a "$tree" "$rpm_root"
(cd "$rpm_root" && find . -xdev | sed 's|^\.||' | sort) >"$run/rpm-before"
rpm_in_tree() { rpm --root "$rpm_root" --dbpath /var/lib/rpm --nodeps "$@"; }
rpm --root "$rpm_root" --dbpath /var/lib/rpm --initdb
check "rpm installs the package into the tree, scripts included" \
  rpm_in_tree -i "$source_root/$rpm_file"
check "the RPM's %post made the hostprint system user" \
  grep -q '^hostprint:x:[0-9]*:[0-9]*:.*:/var/lib/hostprint:/usr/sbin/nologin$' "$rpm_root/etc/passwd"
rpm_uid=$(awk -F: '$1 == "hostprint" {print $3}' "$rpm_root/etc/passwd")
[ "$(stat -c '%a %u' "$rpm_root/etc/hostprint/token" 2>&1)" = "600 $rpm_uid" ] &&
  grep -qxE '[0-9a-f]{64}' "$rpm_root/etc/hostprint/token" &&
  ok "the RPM's %post made the token: mode 0600, owned by hostprint, 64 hex digits" ||
  not_ok "the RPM's %post made the token: mode 0600, owned by hostprint, 64 hex digits" \
    "$(stat -c '%a %U' "$rpm_root/etc/hostprint/token" 2>&1)"
check "the RPM's %post made the state folder: mode 0700, owned by hostprint" \
  test "$(stat -c '%a %u' "$rpm_root/var/lib/hostprint" 2>&1)" = "700 $rpm_uid"
token_before=$(cat "$rpm_root/etc/hostprint/token" 2>/dev/null)
echo '// edited' >>"$rpm_root/etc/hostprint/hostprint.json"
check "rpm upgrades the package in place (a reinstall of the same version)" \
  rpm_in_tree -U --replacepkgs "$source_root/$rpm_file"
[ -n "$token_before" ] && [ "$(cat "$rpm_root/etc/hostprint/token")" = "$token_before" ] &&
  ok "an RPM upgrade keeps the token" || not_ok "an RPM upgrade keeps the token"
grep -q '^// edited$' "$rpm_root/etc/hostprint/hostprint.json" &&
  ok "an RPM upgrade keeps a local edit of the configuration" ||
  not_ok "an RPM upgrade keeps a local edit of the configuration"
sed -i '/^\/\/ edited$/d' "$rpm_root/etc/hostprint/hostprint.json"
check "rpm erases the package" rpm_in_tree -e hostprint
leftovers=$(new_leftovers "$rpm_root" "$run/rpm-before"; owned_by_uid "$rpm_root" "$rpm_uid")
[ -z "$leftovers" ] && ok "an RPM erase leaves no file behind" ||
  not_ok "an RPM erase leaves no file behind" "$leftovers"
rm -rf "$rpm_root"

# --- the .deb, installed with apt and booted ----------------------------------------------------
root=$run/root
cp -a "$tree" "$root"
# A user's crontab as cron keeps it (folder 1730, file 0600, root's): only CAP_DAC_READ_SEARCH lets
# the unprivileged service count it, which the comparison with root's count below shows.
mkdir -p "$root/var/spool/cron/crontabs"
chmod 1730 "$root/var/spool/cron/crontabs"
echo '17 3 * * * /usr/bin/true' >"$root/var/spool/cron/crontabs/alice"
chmod 0600 "$root/var/spool/cron/crontabs/alice"
(cd "$root" && find . -xdev | sed 's|^\.||' | sort) >"$run/deb-before"
cp "$deb" "$root/hostprint-test.deb"
# Installed before the boot, with the host's network: the booted container has none of its own.
in_tree() { systemd-nspawn -q --register=no --keep-unit -D "$root" "$@"; }
if in_tree bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
     apt-get install -y -qq --no-install-recommends /hostprint-test.deb' \
  >"$run/apt.log" 2>&1; then
  ok "apt-get install ./hostprint_*.deb installs it with its dependencies"
else
  not_ok "apt-get install ./hostprint_*.deb installs it with its dependencies" \
    "$(tail -20 "$run/apt.log")"
fi
uid=$(awk -F: '$1 == "hostprint" {print $3}' "$root/etc/passwd")
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$uid" -gt 0 ] &&
  ok "postinst made the hostprint system user (uid $uid)" ||
  not_ok "postinst made the hostprint system user" "$(grep hostprint "$root/etc/passwd")"
token_file=$root/etc/hostprint/token
[ "$(stat -c '%a %u' "$token_file" 2>/dev/null)" = "600 $uid" ] &&
  grep -qxE '[0-9a-f]{64}' "$token_file" &&
  ok "postinst made the token: mode 0600, owned by hostprint, 64 hex digits" ||
  not_ok "postinst made the token: mode 0600, owned by hostprint, 64 hex digits" \
    "$(stat -c '%a %U' "$token_file" 2>&1)"
[ "$(stat -c '%a %u' "$root/var/lib/hostprint" 2>/dev/null)" = "700 $uid" ] &&
  ok "postinst made the state folder: mode 0700, owned by hostprint" ||
  not_ok "postinst made the state folder: mode 0700, owned by hostprint"
token=$(cat "$token_file" 2>/dev/null)

# The container gets a network namespace of its own (loopback only), so its port 9779 is its own.
systemd-nspawn --boot --register=no --keep-unit --private-network -D "$root" \
  --machine="hostprint-test-$$" >"$run/console.log" 2>&1 </dev/null &
nspawn_pid=$!
leader=""
for _ in $(seq 100); do
  for child in $(ps -o pid= --ppid "$nspawn_pid" 2>/dev/null); do
    grep -qE '^NSpid:\s+[0-9]+\s+1$' "/proc/$child/status" 2>/dev/null && leader=$child
  done
  [ -n "$leader" ] && break
  sleep 0.2
done
[ -n "$leader" ] || bail "the container did not start: $(tail -5 "$run/console.log" | tr '\n' ' ')"
inside() { nsenter --target "$leader" --all -- "$@"; }
state=""
for _ in $(seq 120); do
  state=$(inside systemctl is-system-running 2>/dev/null)
  case $state in running | degraded) break ;; esac
  sleep 0.5
done
case $state in
  running | degraded) ok "the container boots with systemd ($state)" ;;
  *) not_ok "the container boots with systemd" "state: $state" ;;
esac
journal() { inside journalctl -u hostprint --no-pager -n 30 2>&1; }
show() { inside systemctl show -P "$1" hostprint.service; }
# GET PATH [TOKEN]: prints the status code, then the body, from inside the container's network.
get() {
  nsenter --target "$leader" --net -- curl -s -m 10 -w '\n%{http_code}' \
    -H "X-Auth-Token: ${2:-$token}" "http://127.0.0.1:9779$1"
}
wait_active() {
  for _ in $(seq 120); do
    [ "$(inside systemctl is-active hostprint 2>/dev/null)" = active ] && return 0
    sleep 0.5
  done
  return 1
}

wait_active
check "systemctl is-active hostprint: active" test "$(inside systemctl is-active hostprint)" = active
[ "$(show Type)" = notify ] && [ "$(show StatusText)" = "serving on 127.0.0.1:9779" ] &&
  ok "it became active on READY=1, sent after the first scan with the socket listening" ||
  not_ok "it became active on READY=1" "Type=$(show Type) Status=$(show StatusText)
$(journal)"
main_pid=$(show MainPID)
main_uid=$(inside awk '/^Uid:/ {print $2}' "/proc/$main_pid/status")
[ -n "$uid" ] && [ "$main_uid" = "$uid" ] && ok "it runs as the hostprint user (uid $uid)" ||
  not_ok "it runs as the hostprint user" "process uid: ${main_uid:-none}, hostprint: ${uid:-none}"
check "its effective capabilities are CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE only" \
  test "$(inside awk '/^CapEff:/ {print $2}' "/proc/$main_pid/status")" = 0000000000080004

answer=$(get '/v5/test/asset/statistics')
accounts=$(grep -c '' "$root/etc/passwd")
if [ "$(tail -1 <<<"$answer")" = 200 ] &&
  grep -q "\"account_num\":$accounts," <<<"$answer" &&
  grep -qE '"process_num":[1-9][0-9]*,' <<<"$answer"; then
  ok "the endpoint answers with the generated token: $accounts accounts as in /etc/passwd"
else
  not_ok "the endpoint answers with the generated token" "$answer
$(journal)"
fi
check "a wrong token gets 401" test "$(get '/v5/test/asset/statistics' wrong | tail -1)" = 401

# Keep-alives: with a watchdog of 4 s a silent agent would be killed within seconds.
inside mkdir -p /run/systemd/system/hostprint.service.d
printf '[Service]\nWatchdogSec=4\n' | inside tee /run/systemd/system/hostprint.service.d/watchdog.conf >/dev/null
inside systemctl daemon-reload
inside systemctl restart hostprint
wait_active
watchdog_pid=$(show MainPID)
first_ping=$(show WatchdogTimestampMonotonic)
sleep 9
if [ "$(show MainPID)" = "$watchdog_pid" ] && [ "$(show NRestarts)" = 0 ] &&
  [ "$(show WatchdogTimestampMonotonic)" -gt "${first_ping:-0}" ] 2>/dev/null; then
  ok "keep-alives arrive: a 4 s watchdog leaves it running for 9 s"
else
  not_ok "keep-alives arrive: a 4 s watchdog leaves it running for 9 s" \
    "MainPID $(show MainPID) (was $watchdog_pid), NRestarts $(show NRestarts)
$(journal)"
fi
inside rm -r /run/systemd/system/hostprint.service.d
inside systemctl daemon-reload
inside systemctl restart hostprint
wait_active

# Reload: a token added to the token file is accepted afterwards, by the same process.
pid_before=$(show MainPID)
second_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$second_token" >>"$token_file"
check "systemctl reload hostprint succeeds" inside systemctl reload hostprint
sleep 1
[ "$(show MainPID)" = "$pid_before" ] && [ "$(inside systemctl is-active hostprint)" = active ] &&
  ok "after the reload the same process keeps serving" ||
  not_ok "after the reload the same process keeps serving" "$(journal)"
check "after the reload the added token is accepted" \
  test "$(get '/v5/test/asset/statistics' "$second_token" | tail -1)" = 200
check "after the reload the generated token is still accepted" \
  test "$(get '/v5/test/asset/statistics' | tail -1)" = 200

# The hardened, unprivileged service counts what root counts: its answer just after the reload's
# rescan beside one scan run as root (`hostprint query`) in the same container. Processes may start
# or end in between, and the query counts itself: process_num within 2, every other count equal.
service_counts=$(get '/v5/test/asset/statistics' | sed '$d')
root_counts=$(inside hostprint query --state-dir /run/hostprint-query /v5/test/asset/statistics 2>/dev/null)
differences=$(python3 - "$service_counts" "$root_counts" <<'COMPARE' 2>&1
import json, sys
service, root = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for key in sorted(set(service) | set(root)):
    a, b = service.get(key), root.get(key)
    if key == "process_num" and isinstance(a, int) and isinstance(b, int) and abs(a - b) <= 2:
        continue
    if a != b:
        print(f"{key}: service {a}, root {b}")
COMPARE
)
[ -n "$root_counts" ] && [ -z "$differences" ] &&
  ok "the service counts what root counts: $root_counts" ||
  not_ok "the service counts what root counts" "service: $service_counts
root: $root_counts
$differences"
sed -i '$d' "$token_file"

# A killed agent is restarted.
restarts_before=$(show NRestarts)
inside sh -c "kill -KILL $pid_before"
restarted=""
for _ in $(seq 60); do
  new_pid=$(show MainPID)
  if [ "$new_pid" != 0 ] && [ "$new_pid" != "$pid_before" ] &&
    [ "$(inside systemctl is-active hostprint)" = active ]; then
    restarted=1
    break
  fi
  sleep 0.5
done
[ -n "$restarted" ] && [ "$(show NRestarts)" -gt "$restarts_before" ] &&
  ok "killing the process gets it restarted (pid $pid_before -> $new_pid)" ||
  not_ok "killing the process gets it restarted" "$(journal)"
check "the restarted agent answers" test "$(get '/v5/test/asset/statistics' | tail -1)" = 200

# The tree has no man-db to look the Documentation= page up with; the page is checked above.
verify_output=$(inside systemd-analyze verify --man=no hostprint.service 2>&1)
[ $? -eq 0 ] && [ -z "$verify_output" ] && ok "systemd-analyze verify hostprint.service is clean" ||
  not_ok "systemd-analyze verify hostprint.service is clean" "$verify_output"
exposure=$(inside systemd-analyze security --no-pager hostprint.service 2>&1 |
  sed -n 's/.*Overall exposure level for hostprint.service: \([0-9.]*\).*/\1/p')
if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN {exit !(e <= 2.5)}'; then
  ok "systemd-analyze security: exposure $exposure (at most 2.5)"
else
  not_ok "systemd-analyze security: exposure at most 2.5" "exposure: ${exposure:-none}"
fi

check "systemctl stop hostprint succeeds" inside systemctl stop hostprint
[ "$(show Result)" = success ] && [ "$(show ExecMainStatus)" = 0 ] &&
  [ "$(inside systemctl is-active hostprint)" = inactive ] &&
  ok "it stops cleanly: exit status 0, result success" ||
  not_ok "it stops cleanly" "Result=$(show Result) ExecMainStatus=$(show ExecMainStatus)
$(journal)"

# An upgrade (a reinstallation) keeps the token; purge then removes everything.
check "apt-get install --reinstall of the .deb succeeds" \
  inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall /hostprint-test.deb
check "a reinstallation keeps the token" test "$(cat "$token_file")" = "$token"
check "the reinstallation started the service again" wait_active
check "apt-get purge --autoremove hostprint succeeds" \
  inside env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq --autoremove hostprint
stop_container
rm -f "$root/hostprint-test.deb"
leftovers=$(new_leftovers "$root" "$run/deb-before"; owned_by_uid "$root" "$uid";
  cd "$root" && find . -xdev -name '*hostprint*' -not -path './var/log/*' | head -5)
[ -z "$leftovers" ] && ok "apt-get purge leaves no file behind" ||
  not_ok "apt-get purge leaves no file behind" "$leftovers"

echo "1..$checks"
[ "$failures" -eq 0 ]
