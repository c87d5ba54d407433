#!/usr/bin/env bash
# Builds local stand-ins for the public images the Dockerfiles and docker/compose.yaml name, for a Docker
# engine that can reach no image registry (only Debian's mirror and the npm registry):
#   node   - like node:24-bookworm-slim: Debian bookworm (debootstrap, minbase), Node 24 from the npm
#            registry's node-linux-<arch> package (bin/node and the headers in /usr/local), npm from the
#            registry's npm package, user and group `node` 1000:1000;
#   redis  - like redis:7-bookworm: Debian's redis-server on the same Debian tree, run as `redis` in /data.
# The node stand-in also trusts the certificate authorities this host trusts (its bundle, and npm's global
# `cafile` naming it), so that `npm ci` inside `docker build` reaches the registry the way it does here; the
# project's Dockerfile itself adds nothing of the kind.
# Each image is tagged with a hash of its inputs and rebuilt only when they change; the debootstrap tree is
# kept in CACHE_DIR so that even a pruned engine gets its base back without a download.
#
# Usage: test/docker/stand-in-images.sh            prints the two tags, as NAME=TAG lines
# Environment: CACHE_DIR (default /var/cache/tylt-relay-test), NODE_SPEC (default node-linux-<arch>@24),
#              NPM_SPEC (default npm@11), SUITE (default bookworm).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_DIR=${CACHE_DIR:-/var/cache/tylt-relay-test}
SUITE=${SUITE:-bookworm}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
case "$(uname -m)" in
  x86_64) arch=x64 deb_arch=amd64 ;;
  aarch64 | arm64) arch=arm64 deb_arch=arm64 ;;
  *) echo "stand-in: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
NODE_SPEC=${NODE_SPEC:-node-linux-$arch@24}
NPM_SPEC=${NPM_SPEC:-npm@11}
log() { echo "stand-in: $*" >&2; }
die() { echo "stand-in: FAILED: $*" >&2; exit 1; }

# The mirrors apt is configured with (one-line and deb822 sources): "URI SUITE" pairs.
apt_sources() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i + 1) }' "$file"
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no") for (u in uris) for (s in suites) print uris[u], suites[s]; delete uris; delete suites; types = ""; enabled = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/ { types = $0 }
      /^Enabled:/ { enabled = $2 }
      /^URIs:/ { for (i = 2; i <= NF; i++) uris[i] = $i }
      /^Suites:/ { for (i = 2; i <= NF; i++) suites[i] = $i }
      END { flush() }' "$file"
  done
}
mirror_for() { apt_sources | awk -v s="$1" '$2 == s { print $1; exit }'; }

MIRROR=$(mirror_for "$SUITE")
[ -n "$MIRROR" ] || die "apt has no source for $SUITE (looked in /etc/apt/sources.list and /etc/apt/sources.list.d)"
SECURITY_MIRROR=$(mirror_for "$SUITE-security")
[ -f "$CA_BUNDLE" ] || die "$CA_BUNDLE is missing"

NODE_VERSION=$(npm view "$NODE_SPEC" version --json | node -e 'const v=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log([].concat(v).pop())')
NPM_VERSION=$(npm view "$NPM_SPEC" version --json | node -e 'const v=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log([].concat(v).pop())')
[ -n "$NODE_VERSION" ] && [ -n "$NPM_VERSION" ] || die "the npm registry did not resolve $NODE_SPEC / $NPM_SPEC"

hash_of() { sha256sum | cut -c1-16; }
ROOTFS_KEY=$( (printf '%s\n' "$SUITE" "$deb_arch" "$MIRROR" "$SECURITY_MIRROR"; sed -n '/^slim_tree()/,/^build_node()/p' "$0") | hash_of)
NODE_KEY=$( (cat "$0"; printf '%s\n' "$ROOTFS_KEY" "$NODE_SPEC" "$NODE_VERSION" "$NPM_VERSION"; cat "$CA_BUNDLE") | hash_of)
REDIS_KEY=$( (echo "$ROOTFS_KEY"; cat "$HERE/redis/Dockerfile" "$HERE/redis/entrypoint.sh") | hash_of)
NODE_TAG=tylt-relay-test/node:24-$SUITE-slim-$NODE_KEY
REDIS_TAG=tylt-relay-test/redis:7-$SUITE-$REDIS_KEY
DEBIAN_TAG=tylt-relay-test/debian:$SUITE-slim-$ROOTFS_KEY
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# What the official Debian images configure on top of debootstrap: apt keeps no package caches, indexes or
# translations; dpkg installs no documentation, manual pages or locales ("slim").
slim_tree() {
  local tree=$1
  cat >"$tree/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  echo 'Acquire::Languages "none";' >"$tree/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$tree/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$tree/etc/apt/apt.conf.d/docker-autoremove-suggests"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/lintian/*' 'path-exclude /usr/share/linda/*' 'path-exclude /usr/share/locale/*' \
    >"$tree/etc/dpkg/dpkg.cfg.d/docker"
  find "$tree/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$tree/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$tree"/usr/share/man/* "$tree"/usr/share/groff/* "$tree"/usr/share/info/* "$tree"/usr/share/lintian/* \
    "$tree"/usr/share/linda/* "$tree"/usr/share/locale/*
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/*.bin "$tree"/var/cache/apt/archives/*.deb
}

# The same sources as the official images: the release, its updates and its security fixes.
write_sources() {
  local tree=$1
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$SUITE" "$SUITE"
    if [ -n "$SECURITY_MIRROR" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$SECURITY_MIRROR" "$SUITE"
    fi
  } >"$tree/etc/apt/sources.list.d/debian.sources"
  rm -f "$tree/etc/apt/sources.list"
}

# A minimal Debian tree, downloaded once per mirror, suite and recipe.
rootfs_tarball() {
  local tarball=$CACHE_DIR/rootfs-$SUITE-$deb_arch-$ROOTFS_KEY.tar
  if [ ! -f "$tarball" ]; then
    local tree
    tree=$(mktemp -d "$CACHE_DIR/debootstrap.XXXXXX")
    log "debootstrap --variant=minbase $SUITE from $MIRROR"
    debootstrap --variant=minbase --arch="$deb_arch" "$SUITE" "$tree" "$MIRROR" >"$tree.log" 2>&1 \
      || die "debootstrap failed; see $tree.log"
    write_sources "$tree"
    slim_tree "$tree"
    tar -C "$tree" --numeric-owner -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$tree" "$tree.log"
  fi
  echo "$tarball"
}

build_node() {
  have_image "$NODE_TAG" && { log "node: $NODE_TAG is current"; return; }
  local work tarball
  work=$(mktemp -d "$CACHE_DIR/node.XXXXXX")
  tarball=$(rootfs_tarball)
  mkdir "$work/root"
  tar -C "$work/root" --numeric-owner -xf "$tarball"
  log "node: $NODE_SPEC $NODE_VERSION and npm $NPM_VERSION from the npm registry"
  (cd "$work" && npm pack --silent "node-linux-$arch@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$work/root/usr/local/lib/node_modules/npm"
  tar -C "$work/node" -xzf "$work/node-linux-$arch-$NODE_VERSION.tgz"
  cp "$work/node/package/bin/node" "$work/root/usr/local/bin/node"
  cp -r "$work/node/package/include" "$work/node/package/share" "$work/root/usr/local/"
  tar -C "$work/root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work/npm-$NPM_VERSION.tgz"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"
  chroot "$work/root" groupadd --gid 1000 node
  chroot "$work/root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  mkdir -p "$work/root/etc/ssl/certs" "$work/root/usr/local/etc"
  cp "$CA_BUNDLE" "$work/root/etc/ssl/certs/ca-certificates.crt"
  # Node trusts its own list of authorities, not the system's: npm is told where this host's are.
  echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$work/root/usr/local/etc/npmrc"
  chroot "$work/root" /usr/local/bin/node -e 'process.exit(process.versions.node === process.argv[1] ? 0 : 1)' "$NODE_VERSION" \
    || die "node $NODE_VERSION does not run in the stand-in"
  tar -C "$work/root" --numeric-owner -cf - . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'CMD ["node"]' - "$NODE_TAG" >/dev/null
  rm -rf "$work"
  log "node: built $NODE_TAG"
}

# The plain Debian tree, as the base of the other stand-ins (debian:bookworm-slim).
build_debian() {
  have_image "$DEBIAN_TAG" && return
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$(rootfs_tarball)" "$DEBIAN_TAG" >/dev/null
}

build_redis() {
  have_image "$REDIS_TAG" && { log "redis: $REDIS_TAG is current"; return; }
  build_debian
  DOCKER_BUILDKIT=0 docker build --build-arg "BASE=$DEBIAN_TAG" -t "$REDIS_TAG" "$HERE/redis" >"$CACHE_DIR/redis.log" 2>&1 \
    || { tail -n 30 "$CACHE_DIR/redis.log" >&2; die "the redis stand-in did not build"; }
  log "redis: built $REDIS_TAG"
}

# Older stand-ins (other inputs) only take space: their tags and trees go.
prune() {
  local tag
  for tag in $(docker images --format '{{.Repository}}:{{.Tag}}' 'tylt-relay-test/*'); do
    case "$tag" in
      "$NODE_TAG" | "$REDIS_TAG" | "$DEBIAN_TAG" | tylt-relay-test/relay:*) ;;
      *) docker rmi "$tag" >/dev/null 2>&1 || true ;;
    esac
  done
  find "$CACHE_DIR" -maxdepth 1 -name 'rootfs-*.tar' -not -name "rootfs-$SUITE-$deb_arch-$ROOTFS_KEY.tar" -delete
}

mkdir -p "$CACHE_DIR"
build_node
build_redis
prune
echo "NODE_IMAGE=$NODE_TAG"
echo "REDIS_IMAGE=$REDIS_TAG"
