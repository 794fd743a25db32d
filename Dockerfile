# The service's image: Node 22 (the supported runtime), compiled JavaScript and production
# dependencies only, run as uid 1000 on a read-only root filesystem (README "Deployment").
#
#   docker build -t her2-cds .
#
# BASE is any image with Node ≥ 20.19, npm and a uid-1000 user: by default the official Node 22
# slim image; CI, which reaches no image registry, builds one from Debian packages and passes it
# with --build-arg BASE=… (.ci/container).
ARG BASE=docker.io/library/node:22-trixie-slim

# Every dependency once (the compiler needs the dev ones); no install scripts run.
FROM ${BASE} AS deps
# Set (by .ci/container) only where the build host intercepts TLS: the CA bundle is mounted for the
# build steps, never copied into an image.
ARG NODE_EXTRA_CA_CERTS=
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --prefer-offline --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# The same tree less the dev dependencies: this layer changes only with the lockfile.
FROM deps AS production-deps
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE} AS runtime
# Production refuses to start without CDS Hooks JWTs on and a PUBLIC_BASE_URL (the tokens' audience):
# the JWT switch is set here, PUBLIC_BASE_URL and CDS_CLIENTS_FILE are the deployment's to give.
ENV NODE_ENV=production \
    CDS_HOOKS_JWT=on \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Owned by root and not writable by the service: the root filesystem can be mounted read-only.
COPY package.json ./
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY rules ./rules
COPY openapi ./openapi
# Numeric: Kubernetes' runAsNonRoot can only check a numeric user.
USER 1000:1000
EXPOSE 3000
# Readiness, probed with Node (slim images have no curl) on the address the server listens on:
# loopback when HOST is a wildcard (0.0.0.0, or :: which Node binds dual-stack) or unset, else
# HOST itself (an IPv6 literal in brackets). A 5 s timeout: starting node -e alone took over 3 s on
# a CI host at a load average of 16.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const h = process.env.HOST ?? ''; const host = ['', '0.0.0.0', '::', '[::]'].includes(h) ? '127.0.0.1' : h.includes(':') && !h.startsWith('[') ? `[${h}]` : h; fetch(`http://${host}:${process.env.PORT || 3000}/health/ready`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node, not npm: SIGTERM reaches the server, which drains and exits before the stop timeout. A 16 MiB
# semi-space (young generation): as little CPU per request as 64 MiB measured (issue 10), with
# scavenges of at most ~11 ms instead of ~30 and ~70 MiB less resident memory.
CMD ["node", "--max-semi-space-size=16", "dist/server.js"]
