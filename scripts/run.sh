#!/usr/bin/env bash
# Builds hostprint and runs it in the foreground on 127.0.0.1:9779 with a token of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}"

build=build
if [ ! -f "$build/build.ninja" ]; then
  echo "configuring the build in $build/ (meson)"
  meson setup "$build" -Dtests=false -Dbench=false >"$build.setup.log" 2>&1 ||
    { tail -n 30 "$build.setup.log" >&2; exit 1; }
fi
echo "building hostprint (ninja; progress below)"
ninja -C "$build" hostprint

token_file=${HOSTPRINT_TOKEN_FILE:-$build/dev-token}
if [ ! -s "$token_file" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$token_file")
  echo "made a token in $token_file (mode 0600)"
fi
chmod 600 "$token_file"

cat <<MSG

hostprint is starting on http://127.0.0.1:9779 (Ctrl-C stops it). Ask it, from another shell:

  curl -s -H "X-Auth-Token: \$(cat $PWD/$token_file)" 'http://127.0.0.1:9779/v5/my-project/asset/statistics'
  curl -s -H "X-Auth-Token: \$(cat $PWD/$token_file)" 'http://127.0.0.1:9779/v5/my-project/asset/process/statistics?limit=5'
  curl -s -H "X-Auth-Token: \$(cat $PWD/$token_file)" 'http://127.0.0.1:9779/v5/my-project/rasp/statistics'
  curl -s -H "X-Auth-Token: \$(cat $PWD/$token_file)" 'http://127.0.0.1:9779/status'

MSG
exec "$build/hostprint" serve --listen 127.0.0.1:9779 --token-file "$token_file" \
  --state-dir "$build/state" "$@"
