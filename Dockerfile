# The netlab operator: `docker build -t netlab-operator:dev .` (netlab lab up does this and loads it into kind).
# Node 24 runs the TypeScript sources directly (type stripping), so there is no compile stage: the first
# stage installs the production dependencies exactly as locked, the second holds only those and src/.
#
# Base image pinned to the exact Node release the project is tested with. No digest is recorded: none could
# be checked from where this file was written. To pin one, read it with
#   docker buildx imagetools inspect node:24.21.0-bookworm-slim
# and build with --build-arg NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:<digest>.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# No dev dependencies (typescript, jest, testcontainers, ...); no install scripts (none of the runtime
# dependencies needs one).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# The operator needs node and nothing else from the base: drop npm, npx, corepack and yarn.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-*
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# Numeric, so the kubelet can verify runAsNonRoot; the same UID as manifests/operator/operator.yaml.
USER 65532:65532
ENTRYPOINT ["node", "src/operator/main.ts"]
