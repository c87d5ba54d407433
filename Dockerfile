# tylt-relay container image (docs/container.md). test/docker/ builds and runs it on a real Docker engine;
# test/dockerfile-steps.test.ts runs the same npm steps, COPY list, CMD and HEALTHCHECK without Docker, so
# change them together.

# Build and runtime share one Debian release, so the native better-sqlite3 binding built here loads there.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 downloads a prebuilt binding when one exists for this Node ABI and compiles it otherwise.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# The npm that wrote package-lock.json: it honours package.json "allowScripts", which approves the install
# scripts of better-sqlite3 (and esbuild), whatever npm the Node image happens to bundle.
ARG NPM_VERSION=11.19.1
RUN npm install -g npm@${NPM_VERSION}
# node-gyp takes the headers of the Node in the image instead of downloading them. node-gyp reads its options
# from npm_package_config_node_gyp_*; npm 11 warns about npm_config_nodedir, which is no npm setting.
ENV npm_package_config_node_gyp_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund
# A compiled better-sqlite3 keeps its object files, static library and the SQLite sources (about 26 MB):
# only the binding itself is loaded.
RUN find node_modules/better-sqlite3/build -mindepth 1 -not -path node_modules/better-sqlite3/build/Release -not -path node_modules/better-sqlite3/build/Release/better_sqlite3.node -delete \
  && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src
# Fail the build, not the first start, when the native binding is missing.
RUN node -e "require('better-sqlite3')(':memory:').close()"

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps zombies; node as PID 1 would ignore default signals.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
# The other settings keep their defaults (HOST and OPS_HOST 0.0.0.0, PORT 3000, OPS_PORT 9090); secrets come
# at run time (TYLT_SECRET_<NAME>_FILE), never from the image.
ENV DATA_DIR=/data
# Docker's `docker stop` waits 10 s before it kills: a stop that drains a backlog into a healthy downstream
# ends within SHUTDOWN_GRACE + 1 s (docs/operations.md, "Graceful stop"). Kubernetes and Compose set their own.
ENV SHUTDOWN_GRACE=8s
WORKDIR /app
# Root owns the code, so the relay cannot rewrite itself; it owns only its data.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# The `node` user (uid 1000) comes with the official image; numeric so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 3000 9090
# fetch is built into Node: the check needs no curl or shell.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.OPS_PORT||9090)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
# The same node flags as dist/cli.js's first line (see src/cli.ts for why): a 4 MB young generation and a
# 1 GB ceiling on the old one keep the relay's resident size near 110 MB at full load.
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=1024", "dist/cli.js", "serve"]
