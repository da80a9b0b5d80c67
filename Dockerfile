# Build: Go with cgo (SQLite is compiled in).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
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
