# One image per app:  docker build --build-arg APP=gateway -t toolpath-gateway .
# APP is one of gateway (port 3000), recorder (3001), analyzer (3002), executor (3003),
# generator (3004). docker-compose.yml builds all five.
ARG NODE_IMAGE=node:24-bookworm-slim

# The package manifests alone, so that the `npm ci` layer below is reused until a
# dependency changes (works with the classic builder too: no BuildKit-only syntax).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && for f in apps/*/package.json libs/*/package.json; do \
      mkdir -p "/manifests/${f%/package.json}" && cp "$f" "/manifests/$f"; \
    done

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true
COPY --from=manifests /manifests/ ./
# Exactly the lock (it lists every platform's optional binaries, so npm 10 and 11 accept it).
RUN npm ci --no-audit --no-fund
COPY . .
# `npm run build`: tsc -b emits apps/<app>/dist and libs/<lib>/dist, then Vite builds the web
# console into apps/console/dist (the gateway serves it at /). /out gets what runs: the production
# node_modules (workspace packages are symlinks into apps/ and libs/) plus manifests and dist (the
# console's included), and the data files read at run time (the built-in workflow templates, the
# executor's Lua scripts, the OTLP protobuf definitions).
RUN npm run build \
 && test -f apps/console/dist/index.html \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir -p /out \
 && cp -a package.json node_modules /out/ \
 && for d in apps/* libs/*; do \
      mkdir -p "/out/$d" && cp -a "$d/package.json" "$d/dist" "/out/$d/"; \
    done \
 && cp -a libs/templates/templates /out/libs/templates/ \
 && cp -a libs/otlp-mapping/proto /out/libs/otlp-mapping/ \
 && cp -a apps/executor/lua /out/apps/executor/

FROM ${NODE_IMAGE} AS runtime
ARG APP=gateway
ENV APP=${APP} NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
# Owned by root and read-only for the user the app runs as.
COPY --from=build /out/ ./
RUN test -f "apps/${APP}/dist/main.js" \
 || { echo "APP=${APP}: no apps/${APP}/dist/main.js (expected gateway, recorder, analyzer, executor or generator)" >&2; exit 1; }
USER node
EXPOSE 3000 3001 3002 3003 3004
# exec: node gets the signals (graceful shutdown); compose adds an init for zombie reaping.
CMD ["sh", "-c", "exec node apps/${APP}/dist/main.js"]
