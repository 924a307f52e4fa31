# The netlab operator: `docker build -t netlab-operator:dev .` (netlab lab up does this and loads it into kind).
# The first stage bundles src/operator/main.ts and everything it imports into one JavaScript file
# (scripts/bundle-operator.ts: one file starts several times faster than about 1,100 modules); the second
# holds node, that file and the licenses of the packages bundled into it.
#
# Base image pinned to the exact Node release the project is tested with. No digest is recorded: none could
# be checked from where this file was written. To pin one, read it with
#   docker buildx imagetools inspect node:24.21.0-bookworm-slim
# and build with --build-arg NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:<digest>.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS bundle
WORKDIR /app
COPY package.json package-lock.json ./
# Dev dependencies too: esbuild, the bundler, is one. No install scripts: esbuild finds its binary in its
# platform package without its own.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/bundle-operator.ts ./scripts/
COPY src ./src
RUN node scripts/bundle-operator.ts dist

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# The operator needs node and nothing else from the base: drop npm, npx, corepack and yarn.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-*
COPY --from=bundle /app/dist/ ./
# Numeric, so the kubelet can verify runAsNonRoot; the same UID as manifests/operator/operator.yaml.
USER 65532:65532
ENTRYPOINT ["node", "operator.mjs"]
