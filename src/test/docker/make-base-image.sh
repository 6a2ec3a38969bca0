#!/usr/bin/env bash
# Makes the CPU base image for the Dockerfile from Debian packages, because no registry image can be
# pulled on these machines: debootstrap (minbase + a headless JRE 17) from the Debian mirror apt already
# uses, then `docker import`. Reuses the image when it exists. Needs root, debootstrap and a Docker daemon.
#
#   src/test/docker/make-base-image.sh [image-name]     (default fgclip2-base:bookworm-jre17)
set -euo pipefail

IMAGE=${1:-fgclip2-base:bookworm-jre17}
SUITE=bookworm

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE exists, reusing it"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 1; }

# The mirror apt uses here: a deb822 .sources entry ("URIs:") or a one-line "deb URI suite ..." entry
# for the suite, skipping the security archive.
mirror_of() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -e "$file" ] || continue
    awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (uris != "" && ok) { print uris; exit } uris = ""; ok = 0; next }
      /^URIs:/    { uris = $2 }
      /^Suites:/  { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END         { if (uris != "" && ok) print uris }' "$file"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$file" ] || continue
    awk -v suite="$SUITE" '$1 == "deb" { u = ($2 ~ /^\[/) ? 3 : 2; if ($(u + 1) == suite) print $u }' "$file"
  done
}
MIRROR=$(mirror_of | grep -v -- '-security' | head -n 1)
[ -n "$MIRROR" ] || { echo "no Debian $SUITE mirror found in /etc/apt/sources.list(.d)" >&2; exit 1; }

ROOTFS=$(mktemp -d /var/tmp/fgclip2-base.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
echo "debootstrap $SUITE from $MIRROR into $ROOTFS"
started=$(date +%s)
debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR"
# Package caches, lists and documentation are of no use in a runtime image.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/*
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' - "$IMAGE"
echo "made $IMAGE in $(( $(date +%s) - started )) s"
