#!/usr/bin/env bash
# Builds dist/clusterd_VERSION_amd64.deb with dpkg-deb from `make install PREFIX=/usr` into a staging root, plus the
# control files in packaging/deb/. Called by `make deb` (after `make publish`); no debhelper needed.
# Usage: build-deb.sh VERSION DIST_DIR OUTPUT.deb
set -euo pipefail
version="$1"; dist="$2"; out="$3"
cd "$(dirname "$0")/../.."

stage=$(mktemp -d "${TMPDIR:-/tmp}/clusterd-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"   # mktemp makes it 0700, and it becomes the package's ./

make --no-print-directory install DESTDIR="$stage" PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/usr/lib/systemd/system \
  DIST="$dist" >/dev/null
# Debian wants the copyright file; the config reference and install guide are already in the doc dir.
install -m 0644 packaging/deb/copyright "$stage/usr/share/doc/clusterd/copyright"

install -d "$stage/DEBIAN"
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|g" -e "s|@INSTALLED_SIZE@|$installed_size|g" packaging/deb/control > "$stage/DEBIAN/control"
install -m 0644 packaging/deb/conffiles "$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$stage/DEBIAN/$script"
done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort | xargs md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "built $out ($(du -h "$out" | cut -f1))"
