# Mentorship: `make run` starts the server on the embedded store, `make test`
# runs every test. `make help` lists the rest.

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHTIME   ?= 2s

.DEFAULT_GOAL := help
.PHONY: help run test check-generated check-format vet bench generate lint build up down

help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## Run the server on 127.0.0.1:8080 with the embedded store in ./data.
	$(GO) run ./cmd/mentorship serve

test: check-generated check-format vet ## Run every test with the race detector.
	$(GO) test -race -count=1 -timeout 20m ./...

check-generated: ## Fail when `go generate ./...` would change the committed code.
	@tmp=$$(mktemp -d) && cp -r graph "$$tmp/" && $(GO) generate ./... && \
	if ! diff -r "$$tmp/graph" graph >/dev/null; then \
		diff -ru "$$tmp/graph" graph | head -40; rm -rf "$$tmp"; \
		echo "generated code was stale: it is regenerated now; review and commit it"; exit 1; \
	fi; rm -rf "$$tmp"

check-format:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

bench: ## Run the benchmarks and print their results with same-run baselines.
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./... | tee bench.out

generate: ## Regenerate the gqlgen code from schema.graphqls.
	$(GO) generate ./...

lint: vet check-format ## Vet, format check and staticcheck.
	$(GO) run $(STATICCHECK) ./...

build: ## Build bin/mentorship.
	$(GO) build -o bin/mentorship ./cmd/mentorship

up: ## Start the docker-compose setup.
	docker compose up -d --build

down: ## Stop the docker-compose setup.
	docker compose down
