#!/usr/bin/env bash
# Tests the container image against a real Docker engine: starts dockerd when it is installed but not
# running, builds the stand-ins of the public base images (stand-in-images.sh, cached), then runs
# test/docker/*.test.ts, whose global setup builds the relay's image from a clean checkout of HEAD.
# Where no engine can run, it says so and exits 0: that is the only case it skips.
#
# Usage: test/docker/run.sh [vitest arguments...]      e.g. test/docker/run.sh test/docker/image.test.ts
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
skip() { echo "docker: SKIPPED: $*; the image tests did not run" >&2; exit 0; }

# Docker's classic builder: this CLI may have no buildx, and the Dockerfiles need nothing newer.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

if ! docker info >/dev/null 2>&1; then
  command -v docker >/dev/null || skip "no docker command"
  command -v dockerd >/dev/null || skip "no dockerd to start"
  [ "$(id -u)" = 0 ] || skip "dockerd is not running and starting it needs root"
  echo "docker: starting dockerd (log in /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || skip "dockerd did not start: $(tail -n 3 /var/log/dockerd.log | tr '\n' ' ')"
fi
echo "docker: engine $(docker version -f '{{.Server.Version}}')"

# A failure inside $(...) would not stop this script (eval of nothing succeeds): check it here, so the run
# ends with what went wrong rather than with the tests missing their images.
if ! images=$(bash test/docker/stand-in-images.sh); then
  echo "docker: FAILED: the stand-in images did not build (see the stand-in: lines above)" >&2
  exit 1
fi
eval "$images"
export NODE_IMAGE REDIS_IMAGE
echo "docker: stand-ins ready after $(($(date +%s) - started)) s"

status=0
npx vitest run --config test/docker/vitest.config.ts "$@" || status=$?
echo "docker: the whole run took $(($(date +%s) - started)) s"
exit "$status"
