#!/usr/bin/env bash
# Builds the Debian source and binary packages from the source tarball and checks them with
# lintian (any error or warning fails); the .deb, .dsc and friends land in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}" "${PACKAGING_PACKAGES[@]}"

tarball=$(./scripts/build-source.sh)
version=$(basename "$tarball" .tar.xz)
version=${version#hostprint-}
work=build-deb
rm -rf "$work"
mkdir -p "$work"
cp "$tarball" "$work/hostprint_$version.orig.tar.xz"
tar -C "$work" -xf "$tarball"
cp -r "$work/hostprint-$version/packaging/debian" "$work/hostprint-$version/debian"
(cd "$work/hostprint-$version" && dpkg-buildpackage -us -uc -j"${HOSTPRINT_BUILD_JOBS:-2}")
changes=$(ls "$work"/hostprint_"$version"-*_*.changes)
lintian --fail-on error,warning --display-info "$changes"
for f in $(sed -n '/^Files:/,/^[^ ]/s/^ .* \([^ ]*\)$/\1/p' "$changes") "$(basename "$changes")"; do
  cp "$work/$f" dist/
done
ls dist/hostprint_"$version"-*.deb
