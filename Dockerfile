# Front-end packages pinned in static/package-lock.json (htmx, mermaid),
# copied where the binary embeds them, as `make vendor` does.
FROM node:20-bookworm-slim AS vendor
WORKDIR /src/static
COPY static/package.json static/package-lock.json ./
RUN npm ci --no-audit --no-fund \
    && mkdir -p vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js vendor/htmx.min.js \
    && cp node_modules/htmx-ext-sse/dist/sse.min.js vendor/htmx-ext-sse.js \
    && cp node_modules/mermaid/dist/mermaid.min.js vendor/mermaid.min.js

# Build: Go with cgo (SQLite is compiled in).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=vendor /src/static/vendor/ static/vendor/
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/greenroom ./cmd/greenroom

# Run: a small Debian with git (for git locations) and CA certificates.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data --create-home greenroom
COPY --from=build /out/greenroom /usr/local/bin/greenroom
USER greenroom
WORKDIR /data
VOLUME /data
EXPOSE 7007
ENV GREENROOM_ADDR=0.0.0.0:7007 GREENROOM_DATA_DIR=/data
ENTRYPOINT ["greenroom"]
CMD ["serve"]
