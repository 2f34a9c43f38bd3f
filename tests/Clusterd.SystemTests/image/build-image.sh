#!/usr/bin/env bash
# Builds the local Docker image the system tests boot: Debian 12 (bookworm) with systemd as PID 1, made with debootstrap
# because no image registry is reachable from CI. Prints the image tag on stdout (the last line).
#
# The tag is a hash of this script, so a second run (or a CI machine with a warm /var/lib/docker) skips debootstrap:
# edit the package list below and the next run builds a new image.
#
# Usage: build-image.sh [MIRROR]     (needs root, debootstrap and a running dockerd)
set -euo pipefail

script="${BASH_SOURCE[0]}"
hash=$(sha256sum "$script" | cut -c1-12)
tag="local/clusterd-systemd:bookworm-$hash"

# One build at a time: the systemd container and the clusterd image both ask for this base at the start of a run, and
# on a machine without it two debootstraps would race (twice the time, one import overwriting the other).
exec 9>"/tmp/clusterd-systemd-image-$hash.lock"
flock 9

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "image $tag is cached; skipping debootstrap" >&2
  echo "$tag"
  exit 0
fi

# The mirror apt already uses (deb822 URIs: or one-line deb entries), so debootstrap works wherever apt does.
mirror="${1:-}"
if [ -z "$mirror" ]; then
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1 || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

work=$(mktemp -d /tmp/clusterd-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

# systemd + dbus: a real PID 1 with systemctl; procps: ps/pgrep for the "nothing left behind" check; curl: requests
# from inside the container; iproute2: ss. No libicu: every clusterd binary is built with InvariantGlobalization.
start=$(date +%s)
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,procps,curl,ca-certificates,iproute2 \
  bookworm "$rootfs" "$mirror" >&2
echo "debootstrap took $(( $(date +%s) - start ))s" >&2

# (docker import takes no STOPSIGNAL: the tests set SIGRTMIN+3, systemd's "halt", when they create the container.)
# Boot quietly and fast in a container: no getty on a console nobody reads, no udev/timers the tests never need.
for unit in getty@tty1.service console-getty.service systemd-udevd.service systemd-udev-trigger.service \
            apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
            systemd-tmpfiles-clean.timer; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
echo clusterd-test > "$rootfs/etc/hostname"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

start=$(date +%s)
tar -C "$rootfs" -c . | docker import \
  -c 'ENV container=docker' \
  -c 'CMD ["/lib/systemd/systemd"]' \
  - "$tag" >&2
echo "docker import took $(( $(date +%s) - start ))s" >&2
echo "$tag"
