#!/usr/bin/env bash
# Builds the source and binary RPMs from the source tarball with packaging/rpm/hostprint.spec
# and checks them with rpmlint (any error or warning fails); the .rpm files land in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
# On Debian the tools come from deps.sh; on Fedora and RHEL, from the spec's BuildRequires.
nodeps=""
if ! rpm -q rpm >/dev/null 2>&1; then
  nodeps=--nodeps
  . scripts/deps.sh
  ensure_packages "${BUILD_PACKAGES[@]}" "${PACKAGING_PACKAGES[@]}"
fi

tarball=$(./scripts/build-source.sh)
version=$(basename "$tarball" .tar.xz)
version=${version#hostprint-}
spec=packaging/rpm/hostprint.spec
spec_version=$(sed -n 's/^Version: *//p' "$spec")
if [ "$spec_version" != "$version" ]; then
  echo "build-rpm: $spec says $spec_version, meson.build $version" >&2
  exit 1
fi
top=$PWD/build-rpm
rm -rf "$top"
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
cp "$tarball" "$top/SOURCES/"
cp "$spec" "$top/SPECS/"
# Outside an RPM system --nodeps: BuildRequires name Fedora's packages, and deps.sh has installed
# Debian's equivalents.
rpmbuild -ba $nodeps --define "_topdir $top" \
  --define "_smp_mflags -j${HOSTPRINT_BUILD_JOBS:-2}" "$top/SPECS/hostprint.spec"
# rpmlint exits 0 on warnings; they fail the build here as errors do.
lint=$(rpmlint -c packaging/rpm/rpmlint.toml -r packaging/rpm/hostprint.rpmlintrc \
  "$top/SPECS/hostprint.spec" "$top"/RPMS/*/*.rpm "$top"/SRPMS/*.rpm 2>&1) || true
echo "$lint"
if grep -qE ': [EW]: |^E: ' <<<"$lint" || ! grep -q ' 0 errors, 0 warnings' <<<"$lint"; then
  echo "build-rpm: rpmlint found errors or warnings" >&2
  exit 1
fi
cp "$top"/RPMS/*/*.rpm "$top"/SRPMS/*.rpm dist/
ls dist/hostprint-"$version"-*.rpm
