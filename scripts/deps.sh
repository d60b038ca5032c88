# Sourced by run.sh and test.sh: installs with apt-get what building (and testing) needs.
# Usage: ensure_packages PACKAGE...
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "hostprint: these packages are missing: ${missing[*]}; run as root to install them" >&2
    return 1
  fi
  # apt's own output goes to a log, so the terminal shows what matters; its tail on failure.
  local apt_log=${HOSTPRINT_APT_LOG:-/tmp/hostprint-apt.log}
  echo "installing ${#missing[@]} packages with apt-get (its output: $apt_log): ${missing[*]}" >&2
  # Servers installed for the tests (nginx, redis, prometheus) are started by the tests themselves,
  # never by their packages: policy-rc.d tells the maintainer scripts not to start services.
  local policy=/usr/sbin/policy-rc.d made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
  fi
  local status=0
  { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } >"$apt_log" 2>&1 || status=$?
  if [ $status -ne 0 ]; then
    echo "apt-get failed (exit $status); the end of $apt_log:" >&2
    tail -n 25 "$apt_log" >&2
  fi
  [ -n "$made_policy" ] && rm -f "$policy"
  return $status
}

# libsqlite3-dev: the SQLite RPM database reader (Meson option rpmdb; the build goes on without it).
# libexpat1-dev: the XML parser of Tomcat's server.xml. libssl-dev: TLS for serve and fleet.
BUILD_PACKAGES=(g++ meson ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev
                libproc2-dev libsqlite3-dev zlib1g-dev libexpat1-dev libssl-dev python3)
# rpm (rpm, rpmbuild), db5.3-util (db5.3_load), sqlite3, gpg: real RPM databases for the software
# tests, built and checked with the real tools. default-jdk-headless (javac, jar) and zip: real
# archives for the JAR reader's tests. The servers, web applications and Java libraries are the
# real software the fingerprint tests start and recognise (tomcat10 with Debian's Spring and
# Jackson jars, PostgreSQL, WordPress). busybox-static: the one executable of the containers the
# container tests build.
TEST_PACKAGES=(googletest libgtest-dev python3 iproute2 procps util-linux passwd curl
               rpm db5.3-util sqlite3 gpg debian-archive-keyring
               default-jdk-headless zip nginx-light redis-server apache2-bin openssl python3-flask
               gunicorn  # a WSGI server serving a Flask app (web frameworks test)
               tomcat10 libspring-core-java libspring-beans-java libspring-context-java
               libspring-web-java libjackson2-databind-java postgresql-15 wordpress unzip
               busybox-static
               php-cli  # a PHP process with a library named openrasp.so mapped (RASP tests)
               wrk  # scripts/reliability.sh: 1,000 keep-alive connections
               prometheus victoria-metrics  # the engines the fleet tests scrape and query
               clang libclang-rt-14-dev)  # libFuzzer and the sanitizers (scripts/fuzz.sh)
# bench/run.sh: nginx is the HTTP peer, wrk the load, valgrind (callgrind) the regression signal,
# gnuplot-nox the plots of bench/RESULTS.md.
BENCH_PACKAGES=(nginx wrk valgrind gnuplot-nox curl procps iproute2 util-linux gcc)
# Building and checking the packages (scripts/build-deb.sh, build-rpm.sh) and booting the .deb in a
# Debian 12 container (tests/packaging): debhelper, lintian, rpm (rpmbuild), rpmlint, debootstrap,
# systemd-container (systemd-nspawn), xz-utils and git for the source tarball.
PACKAGING_PACKAGES=(debhelper dpkg-dev lintian rpm rpmlint debootstrap systemd-container xz-utils
                    git debian-archive-keyring curl binutils man-db)
