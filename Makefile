# Greenroom: a Backstage-compatible developer portal in one Go binary.
#
#   make run     serve the bundled demo catalog on http://127.0.0.1:7007
#   make test    vet and run every test (what CI runs)
#   make bench   ingest benchmarks on generated 10k and 100k catalogs
#   make bench-api  API load benchmark (wrk) on generated 10k and 100k catalogs

GO      ?= go
BIN     ?= bin/greenroom
DATA    ?= data

.PHONY: all build run test vet unit fuzz bench bench-ingest bench-api clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/greenroom

run: build
	$(BIN) serve --data-dir $(DATA)

vet:
	$(GO) vet ./...
	@unformatted="$$(gofmt -l cmd catalog web scaffolder techdocs plugins static)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

unit:
	$(GO) test -timeout 10m ./...

test: vet unit

# A short run of every fuzz target (go test runs their seed corpora already).
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParseDocuments -fuzztime=30s ./catalog/
	$(GO) test -run='^$$' -fuzz=FuzzParseRef -fuzztime=30s ./catalog/
	$(GO) test -run='^$$' -fuzz=FuzzProcess -fuzztime=30s ./catalog/

# Ingest of generated catalogs: first load, and re-ingest of the unchanged
# catalog (which must write nothing). Peak RSS comes from bench-ingest.
bench:
	$(GO) test -run='^$$' -bench='Ingest' -benchtime=1x -timeout 30m ./catalog/ingest/

bench-ingest: build
	@for n in 10000 100000; do \
	  dir=$$(mktemp -d); $(BIN) generate --entities $$n --out $$dir/catalog >/dev/null; \
	  printf 'catalog:\n  rules:\n    - allow: [Component, API, Resource, System, Domain, Group, User, Location, Template]\n  locations:\n    - type: file\n      target: %s/catalog/all.yaml\n' $$dir > $$dir/app-config.yaml; \
	  echo "== $$n entities: first ingest"; \
	  /usr/bin/time -f "wall %es, peak RSS %M KiB" $(BIN) ingest --config $$dir/app-config.yaml --data-dir $$dir/data 2>&1 | grep -v '^time='; \
	  echo "== $$n entities: unchanged re-ingest"; \
	  /usr/bin/time -f "wall %es, peak RSS %M KiB" $(BIN) ingest --config $$dir/app-config.yaml --data-dir $$dir/data 2>&1 | grep -v '^time='; \
	  rm -rf $$dir; \
	done

# API latency under load: wrk (installed from Debian if missing) against
# `greenroom serve` on generated 10k and 100k catalogs; p50/p99/req/s per
# case beside its target, and RSS and bytes/s of a streamed GET /entities.
# Settings: SIZES, DURATION, WARMUP, THREADS, CONNS, CASES, WORKDIR (see
# the script).
bench-api: build
	BIN=$(BIN) bash catalog/api/testdata/bench-api.sh

clean:
	rm -rf bin $(DATA)

# catalog-client conformance (catalog/api/conformance): Backstage's own npm
# client drives the catalog API. Installs its pinned packages when npm is
# available and they are missing or older than package-lock.json; without
# npm the test skips (GREENROOM_REQUIRE_NODE=1 makes it fail instead).
CONFORMANCE_DIR := catalog/api/conformance

.PHONY: conformance-deps
conformance-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: not installing $(CONFORMANCE_DIR) packages (the catalog-client conformance test will skip)"; \
	elif [ ! -d $(CONFORMANCE_DIR)/node_modules ] || [ $(CONFORMANCE_DIR)/package-lock.json -nt $(CONFORMANCE_DIR)/node_modules ]; then \
	  npm ci --prefix $(CONFORMANCE_DIR) --no-audit --no-fund && touch $(CONFORMANCE_DIR)/node_modules; \
	fi

unit: conformance-deps
