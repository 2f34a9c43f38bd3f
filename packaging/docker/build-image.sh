#!/usr/bin/env bash
# make image: the OCI image clusterd:VERSION from the .deb, on a Debian 12 base made here with debootstrap (nothing is
# pulled from a registry). The base is cached by a hash of this script, so a second run only
# installs the .deb. Prints the image tag on stdout (the last line).
#
# Usage: build-image.sh VERSION DEB [TAG]   (needs root, debootstrap and a running dockerd; TAG defaults to clusterd:VERSION)
# CLUSTERD_IMAGE_BASE=IMAGE uses that local Debian 12 image as the base instead (the system tests pass the one they
# have already debootstrapped for their systemd container, so a test run makes one base, not two).
set -euo pipefail

version="$1" deb="$2" tag="${3:-clusterd:$1}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
hash=$(sha256sum "$here/build-image.sh" | cut -c1-12)
base="${CLUSTERD_IMAGE_BASE:-local/clusterd-base:bookworm-$hash}"

if docker image inspect "$base" >/dev/null 2>&1; then
  echo "base image $base is cached; skipping debootstrap" >&2
elif [ -n "${CLUSTERD_IMAGE_BASE:-}" ]; then
  echo "build-image.sh: CLUSTERD_IMAGE_BASE=$base is not a local image" >&2
  exit 1
else
  # The mirror apt already uses (deb822 URIs: or one-line deb entries), so debootstrap works wherever apt does.
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
  work=$(mktemp -d /tmp/clusterd-base.XXXXXX)
  # debootstrap mounts /proc and /sys in the tree: an interrupted run leaves them there, and rm must not descend.
  trap 'umount "$work/rootfs/proc" "$work/rootfs/sys" 2>/dev/null; rm -rf --one-file-system "$work"' EXIT
  # minbase has no init, no systemd, no shell tools beyond coreutils: clusterd is the container's only service.
  # procps: `ps` for looking inside a running container (and the zombie check of the tests); curl: probes by hand.
  debootstrap --variant=minbase --include=procps,curl,ca-certificates bookworm "$work/rootfs" "$mirror" >&2
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -c . | docker import - "$base" >&2
  rm -rf --one-file-system "$work"
  trap - EXIT
fi

ctx=$(mktemp -d /tmp/clusterd-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$deb" "$ctx/clusterd.deb"
cp "$here/Dockerfile" "$here/clusterd.toml" "$ctx/"
# The legacy builder (no buildx in Debian) never pulls a base that exists locally.
DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" --build-arg "VERSION=$version" -t "$tag" "$ctx" >&2
echo "$tag"
