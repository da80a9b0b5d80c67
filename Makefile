# Greenroom: a Backstage-compatible developer portal in one Go binary.
#
#   make run     serve the bundled demo catalog on http://127.0.0.1:7007
#   make test    vet and run every test (what CI runs)
#   make bench   ingest benchmarks on generated 10k and 100k catalogs
#   make bench-api  API load benchmark (wrk) on generated 10k and 100k catalogs
#   make bench-web  server time of the catalog and entity pages at 100k
#   make bench-search  search index build and query latency at 100k
#   make bench-gitea   webhook-to-visible over 50 pushes to a real Gitea, 100k entities

GO      ?= go
BIN     ?= bin/greenroom
DATA    ?= data

.PHONY: all build run test vet unit fuzz bench bench-ingest bench-api bench-web bench-search bench-gitea clean generate vendor browser-deps

all: build

build: vendor
	$(GO) build -o $(BIN) ./cmd/greenroom

# templ components compile to committed *_templ.go files; `make generate`
# rewrites them, and vet fails when they are out of step with the .templ files.
TEMPL_DIRS := web scaffolder plugins
generate:
	@for d in $(TEMPL_DIRS); do $(GO) tool templ generate -path $$d; done

# htmx and its extensions, and mermaid (diagrams in docs), pinned in
# static/package-lock.json, copied into
# static/vendor (embedded in the binary, never committed). Without npm the
# pages still work, by full page loads.
VENDOR_JS := static/vendor/htmx.min.js static/vendor/htmx-ext-sse.js static/vendor/mermaid.min.js
vendor: $(VENDOR_JS)
$(VENDOR_JS): static/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: pages will run without htmx (full page loads)"; \
	else \
	  npm ci --prefix static --no-audit --no-fund >/dev/null && \
	  cp static/node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js && \
	  cp static/node_modules/htmx-ext-sse/dist/sse.min.js static/vendor/htmx-ext-sse.js && \
	  cp static/node_modules/mermaid/dist/mermaid.min.js static/vendor/mermaid.min.js; \
	fi

# The Playwright driver playwright-go runs: npm's playwright-core at the
# version it expects, with node linked beside it (see web/e2e). The browser is
# Debian's chromium, installed by .ci/run; without either the browser tests
# skip (GREENROOM_REQUIRE_BROWSER=1 makes them fail instead).
E2E_DRIVER := web/e2e/driver
browser-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: not installing the Playwright driver (browser tests will skip)"; \
	elif [ ! -d $(E2E_DRIVER)/node_modules ] || [ $(E2E_DRIVER)/package-lock.json -nt $(E2E_DRIVER)/node_modules ]; then \
	  npm ci --prefix $(E2E_DRIVER) --no-audit --no-fund >/dev/null && touch $(E2E_DRIVER)/node_modules; \
	fi
	@if [ -d $(E2E_DRIVER)/node_modules/playwright-core ]; then \
	  ln -sfn "$$(command -v node)" $(E2E_DRIVER)/node; \
	  ln -sfn node_modules/playwright-core $(E2E_DRIVER)/package; \
	fi

run: build
	$(BIN) serve --data-dir $(DATA)

vet:
	@before="$$(find $(TEMPL_DIRS) -name '*_templ.go' -print0 | sort -z | xargs -0r cat | sha256sum)"; \
	for d in $(TEMPL_DIRS); do $(GO) tool templ generate -path $$d >/dev/null 2>&1 || $(GO) tool templ generate -path $$d; done; \
	after="$$(find $(TEMPL_DIRS) -name '*_templ.go' -print0 | sort -z | xargs -0r cat | sha256sum)"; \
	if [ "$$before" != "$$after" ]; then echo "templ files were out of date: commit the regenerated *_templ.go"; exit 1; fi
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

# Server time (p50/p99 per page, through the router to a recorder) of the
# catalog page under filters and of entity pages, on a generated catalog of
# GREENROOM_BENCH_ENTITIES (default 100,000) entities; also the largest
# catalog page in KB.
bench-web:
	$(GO) test -run='^$$' -bench=Pages -benchtime=500x -timeout 30m ./web/

# The search index built from a store holding a generated catalog
# (GREENROOM_BENCH_ENTITIES, default 100,000): build time, size on disk,
# p50/p99 of one/two-word, typo and typeahead queries, with and without
# facets.
bench-search:
	$(GO) test -run='^$$' -bench=Search -benchtime=300x -timeout 30m ./catalog/search/

# The git plane's freshness: 50 pushes to a real Gitea (built once per
# machine by .ci/gitea/build.sh) whose webhook refreshes one entity in a
# catalog of GREENROOM_BENCH_ENTITIES (default 100,000); p50/p99 from the
# delivery reaching the server, and from the push, to the API showing it.
bench-gitea:
	GREENROOM_GITEA="$$(.ci/gitea/build.sh)" $(GO) test -run='^$$' -bench=GiteaWebhookToVisible -benchtime=1x -timeout 30m ./cmd/greenroom/

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

unit: conformance-deps vendor browser-deps
