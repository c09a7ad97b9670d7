# Mentorship: `make run` starts the server on the embedded store, `make test`
# runs every test. `make help` lists the rest.

SHELL       := bash
.SHELLFLAGS := -o pipefail -c
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHTIME   ?= 2s
# FUZZTIME is how long `make fuzz` runs each fuzz target; `make test` runs
# each for FUZZTIME_SHORT.
FUZZTIME       ?= 60s
FUZZTIME_SHORT ?= 3s

.DEFAULT_GOAL := help
.PHONY: help run test check-generated check-format vet bench bench-all bench-clean generate lint build image up down fuzz soak

help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## Run the server on 127.0.0.1:8080 with the embedded store in ./data.
	$(GO) run ./cmd/mentorship serve

test: check-generated check-format vet ## Run every test with the race detector, then each fuzz target briefly.
	$(GO) test -race -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

# fuzz finds every Fuzz function in the module's test files, so a new
# target is fuzzed without being listed here. go test fuzzes one target at
# a time and links a test binary for each run, so each package's binary is
# built once, with the fuzzing instrumentation, and run for each of its
# targets in the package's folder (where testdata/fuzz holds the seeds and
# a failing input is written) with go test's own corpus cache.
# Go 1.26's fuzzing coordinator can report "context deadline exceeded" when
# -fuzztime ends while a worker is busy: its stop function discounts only
# the workers' context's error, which can lag the deadline's by a moment.
# A failure that says only that and writes no failing input to
# testdata/fuzz is that race, not a finding, and is reported as such. Any
# other failure fails the target.
fuzz: ## Run every fuzz target for FUZZTIME (60s unless set), one after another.
	@set -e; failed=; n=0; bin=$$(mktemp -d); out="$$bin/out"; trap 'rm -rf "$$bin"' EXIT; \
	module=$$($(GO) list -m); cache="$$($(GO) env GOCACHE)/fuzz"; \
	targets=$$(grep -rHo --include='*_test.go' --exclude-dir=testdata '^func Fuzz[A-Za-z0-9_]*(' . \
		| sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\($$|\1 \2|' | sort); \
	if [ -z "$$targets" ]; then echo "no fuzz targets found"; exit 1; fi; \
	while read -r dir name; do \
		n=$$((n+1)); pkg="$$module/$${dir#./}"; test="$$bin/$$(echo "$${dir#./}" | tr / _).test"; \
		if [ ! -x "$$test" ] && ! $(GO) test -c -fuzz . -o "$$test" "$$dir" >"$$out" 2>&1; then \
			cat "$$out"; failed="$$failed $$dir:$$name"; continue; \
		fi; \
		crashers=$$(ls "$$dir/testdata/fuzz/$$name" 2>/dev/null | wc -l || true); \
		echo "fuzzing $$name in $$dir for $(FUZZTIME)"; \
		if (cd "$$dir" && "$$test" -test.run '^$$' -test.fuzz "^$$name\$$" -test.fuzztime $(FUZZTIME) \
			-test.fuzzcachedir "$$cache/$$pkg") >"$$out" 2>&1; then \
			echo "  $$(tail -2 "$$out" | head -1)"; continue; \
		fi; \
		if [ "$$(ls "$$dir/testdata/fuzz/$$name" 2>/dev/null | wc -l || true)" = "$$crashers" ] && \
			grep -q '^    context deadline exceeded$$' "$$out" && ! grep -q -e 'Failing input' -e '^panic:' "$$out"; then \
			echo "  stopped by the fuzzing coordinator's deadline race, not by an input"; continue; \
		fi; \
		cat "$$out"; failed="$$failed $$dir:$$name"; \
	done <<<"$$targets"; \
	if [ -n "$$failed" ]; then echo "fuzz targets failed:$$failed"; exit 1; fi; \
	echo "$$n fuzz targets ran clean for $(FUZZTIME) each"

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

# bench measures what the design's targets name, each beside a baseline
# from the same run: the store's appends beside a raw bbolt group commit,
# the rebuild beside a raw read, the in-process search beside PostgreSQL,
# then the built server from outside (internal/benchserve): its starts and
# memory, the load generator's suite against it, and the Redis read
# models. The seeded programs are kept in BENCH_CACHE between runs, since
# seeding a million events through the program's commands takes minutes;
# `make bench-clean` drops them. bench-all runs every Go benchmark.
BENCH_CACHE ?= .bench-data
BENCH_REDIS ?= redis://127.0.0.1:6379/0

bench: build ## Measure every target beside a same-run baseline and print one table of them.
	$(GO) test -run '^$$' -bench '^Benchmark(RawFsync|AppendSerial|AppendConcurrent|AppendConcurrentRawBolt)$$' -benchtime 1s -benchmem ./eventstore/bolt/ | tee bench.out
	$(GO) test -run '^$$' -bench '^BenchmarkRebuild$$' -benchtime 2x -benchmem ./projections/ | tee -a bench.out
	$(GO) test -run '^$$' -bench '^BenchmarkSearchMentors$$/^(in-process|baseline=postgresql)$$' -benchtime 2s -benchmem ./projections/ | tee -a bench.out
	$(GO) run ./internal/benchserve --bin bin/mentorship --cache $(BENCH_CACHE) --redis-url "$(BENCH_REDIS)" \
		--load-mentors $(LOAD_MENTORS) --load-mentees $(LOAD_MENTEES) --load-events $(LOAD_EVENTS) \
		--clients $(LOAD_CLIENTS) --duration $(LOAD_DURATION) --warmup $(LOAD_WARMUP) --subscribers $(LOAD_SUBSCRIBERS) | tee load.out
	@echo
	$(GO) run ./internal/benchtable bench.out load.out | tee bench-table.out

bench-all: build ## Run every Go benchmark of every package for BENCHTIME.
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./... | tee bench-all.out

bench-clean: ## Drop the seeded programs make bench keeps.
	rm -rf $(BENCH_CACHE)

generate: ## Regenerate the gqlgen code from schema.graphqls.
	$(GO) generate ./...

lint: vet check-format ## Vet, format check and staticcheck.
	$(GO) run $(STATICCHECK) ./...

build: ## Build bin/mentorship.
	$(GO) build -o bin/mentorship ./cmd/mentorship

image: ## Build the container image mentorship:local from the Dockerfile.
	docker build -t mentorship:local .

up: ## Start KurrentDB, Redis and two API instances (docker-compose.yml).
	docker compose up -d --build

down: ## Stop the docker-compose services.
	docker compose down

# bench-load seeds a fresh store, starts the built server on a free
# loopback port and drives it with the load generator; override the sizes,
# such as `make bench-load LOAD_SUBSCRIBERS=2000 LOAD_DURATION=5s`.
LOAD_MENTORS     ?= 100000
LOAD_MENTEES     ?= 20000
LOAD_EVENTS      ?= 400000
LOAD_CLIENTS     ?= 64
LOAD_RATE        ?= 25%
LOAD_DURATION    ?= 10s
LOAD_WARMUP      ?= 2s
LOAD_SUBSCRIBERS ?= 10000

.PHONY: bench-load
bench-load: build ## Seed a store, start the server and print the load generator's table.
	@set -e; dir=$$(mktemp -d); pid=; \
	trap 'if [ -n "$$pid" ]; then kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || true; fi; rm -rf "$$dir"' EXIT INT TERM; \
	echo "seeding $(LOAD_MENTORS) mentors, $(LOAD_MENTEES) mentees, $(LOAD_EVENTS) events"; \
	bin/mentorship seed --data-dir "$$dir/data" --mentors $(LOAD_MENTORS) --mentees $(LOAD_MENTEES) --events $(LOAD_EVENTS) 2>"$$dir/seed.log" \
		|| { cat "$$dir/seed.log"; exit 1; }; \
	bin/mentorship serve --addr 127.0.0.1:0 --data-dir "$$dir/data" --log-level warn --log-format json --signup-limit off --max-subscriptions 100000 >"$$dir/serve.out" 2>"$$dir/serve.log" & pid=$$!; \
	url=; for i in $$(seq 300); do url=$$(grep -o 'http://127.0.0.1:[0-9]*' "$$dir/serve.out" | head -1 || true); [ -n "$$url" ] && break; sleep 0.1; done; \
	if [ -z "$$url" ]; then echo "the server did not start:"; cat "$$dir/serve.log"; exit 1; fi; \
	echo "server at $$url; open-files limit $$(ulimit -n) (soft), $$(ulimit -Hn) (hard)"; \
	bin/mentorship loadgen --url "$$url" --suite --clients $(LOAD_CLIENTS) --rate $(LOAD_RATE) \
		--duration $(LOAD_DURATION) --warmup $(LOAD_WARMUP) --subscribers $(LOAD_SUBSCRIBERS)

# soak seeds a store, starts the built server on a free loopback port and
# runs the mixed load against it for SOAK_DURATION with SOAK_SUBSCRIBERS
# WebSocket subscribers listening, printing the server's memory, goroutines
# and open files every SOAK_EVERY; it then counts the errors the server
# logged. It fails on any failed operation, lost subscriber or logged error.
SOAK_DURATION    ?= 30m
SOAK_EVERY       ?= 1m
SOAK_SUBSCRIBERS ?= 1000
SOAK_CLIENTS     ?= 16
SOAK_RATE        ?= 200
SOAK_MENTORS     ?= 10000
SOAK_MENTEES     ?= 2000
SOAK_EVENTS      ?= 50000

.PHONY: soak
soak: build ## Run the mixed load with 1,000 subscribers for SOAK_DURATION (30m) and report memory, goroutines and errors over time.
	@set -e; dir=$$(mktemp -d); pid=; \
	trap 'if [ -n "$$pid" ]; then kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || true; fi; rm -rf "$$dir"' EXIT INT TERM; \
	echo "seeding $(SOAK_MENTORS) mentors, $(SOAK_MENTEES) mentees, $(SOAK_EVENTS) events"; \
	bin/mentorship seed --data-dir "$$dir/data" --mentors $(SOAK_MENTORS) --mentees $(SOAK_MENTEES) --events $(SOAK_EVENTS) 2>"$$dir/seed.log" \
		|| { cat "$$dir/seed.log"; exit 1; }; \
	bin/mentorship serve --addr 127.0.0.1:0 --data-dir "$$dir/data" --log-level warn --log-format json --signup-limit off --max-subscriptions 100000 >"$$dir/serve.out" 2>"$$dir/serve.log" & pid=$$!; \
	url=; for i in $$(seq 300); do url=$$(grep -o 'http://127.0.0.1:[0-9]*' "$$dir/serve.out" | head -1 || true); [ -n "$$url" ] && break; sleep 0.1; done; \
	if [ -z "$$url" ]; then echo "the server did not start:"; cat "$$dir/serve.log"; exit 1; fi; \
	echo "server at $$url; soaking for $(SOAK_DURATION) at $(SOAK_RATE)/s with $(SOAK_SUBSCRIBERS) subscribers"; \
	status=0; bin/mentorship loadgen --url "$$url" --soak $(SOAK_DURATION) --sample-every $(SOAK_EVERY) \
		--subscribers $(SOAK_SUBSCRIBERS) --clients $(SOAK_CLIENTS) --rate $(SOAK_RATE) || status=$$?; \
	errors=$$(grep -c '"level":"error"' "$$dir/serve.log" || true); \
	echo "the server logged $$errors errors"; \
	if [ "$$errors" != 0 ]; then grep '"level":"error"' "$$dir/serve.log" | head -20; status=1; fi; \
	exit $$status

# chaos builds the server, kills it with SIGKILL at a random moment under
# 64 writers CHAOS_TRIALS times, and prints how many acknowledged changes
# were lost or duplicated and how often verify or a restart failed.
CHAOS_TRIALS ?= 100

.PHONY: chaos
chaos: ## Kill the real server CHAOS_TRIALS (100) times under 64 writers and check every acknowledged change survives once.
	CHAOS_TRIALS=$(CHAOS_TRIALS) $(GO) test -tags chaos -run '^TestChaosKill$$' -count=1 -timeout 60m -v ./cmd/mentorship/
