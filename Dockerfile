# syntax=docker/dockerfile:1
# Build: compile TypeScript with the full dependency set.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies, compiled code, rules and the OpenAPI document only.
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY rules ./rules
COPY openapi ./openapi
USER node
EXPOSE 3000
# Slim images have no curl: probe readiness with Node itself.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node, not npm start: signals (SIGTERM) reach the server, which drains and closes. A 64 MiB
# semi-space (young generation) halves scavenges for this allocation-heavy server: +15 % req/s and a
# lower p99 in npm run bench, for ~100 MiB more resident memory.
CMD ["node", "--max-semi-space-size=64", "dist/server.js"]
