# cmcsync — see README.md.
SHELL := /bin/bash
GO      ?= go
# Unit packages: everything but the QEMU scenarios (they boot QEMU), which
# vm-test runs.
UNIT    = $(shell $(GO) list ./... | grep -v '/qemu/scenario')
FUZZTIME ?= 10s

.PHONY: all build test check deps lint unit fuzz-smoke vm-test bench fuzz run

all: build

build:
	$(GO) build -o bin/cmcsync ./cmd/cmcsync

# The README's test command, enough on a fresh Debian machine with Go, gcc,
# git and make: the host packages (deps), lint, the unit tests (including the
# bounded fault campaign and the headless-browser test), a short fuzz run,
# and the QEMU scenarios.
test: deps lint unit fuzz-smoke vm-test

# The quick loop while editing: lint and the tests that run in seconds
# (-short skips the browser test and the QEMU scenarios).
check: lint
	$(GO) test -short ./...

# Installs the host packages the tests need (QEMU, Chromium, apt's armhf
# lists) when one is missing; silent when none is. See scripts/install-deps.
deps:
	@scripts/install-deps

lint:
	@echo "== gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@echo "== 32-bit ARM build (the CMC guest)"
	CGO_ENABLED=0 GOARCH=arm GOARM=7 $(GO) build -o /dev/null ./cmd/cmcsync
	$(GO) mod tidy -diff

unit: deps
	$(GO) test -count=1 -timeout 20m $(UNIT)
	$(MAKE) --no-print-directory cluster-test

# The campaign's Kubernetes Job and CI matrix (deploy/k8s, a module of its
# own): lint, then decode the manifests strictly, run the shards as local
# processes and merge them (deploy/k8s/README.md, The tests).
.PHONY: cluster-test
cluster-test:
	cd deploy/k8s && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...

# A brief run of the differential fuzz target beyond its seed corpus.
fuzz-smoke:
	$(GO) test -run '^$$' -fuzz '^FuzzDifferential$$' -fuzztime $(FUZZTIME) ./sim

# The full log goes to vm-test.log; the terminal gets the test and scenario lines.
vm-test: deps
	$(GO) test -count=1 -timeout 25m -v ./qemu/scenario/... 2>&1 | tee vm-test.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|scenario' ; exit $${PIPESTATUS[0]}

bench:
	$(GO) run ./cmd/cmcsync bench --out bench-out
	$(GO) test -run '^$$' -bench . -benchtime 3x ./bench/ ./sim/ ./sync/...

# Longer fuzzing of every target, FUZZTIME each.
fuzz:
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
	  done; \
	done

run:
	$(GO) run ./cmd/cmcsync serve

# Mutation score (docs/MUTATION.md): Gremlins enumerates the mutants of
# sync/store and sync/engine (default operators), scripts/mutate tests a
# seeded sample of them, campaign tests first, then the unit tests. Results
# are kept per mutant in mutate-out/results.jsonl: rerunning continues. Not
# part of `make test`.
GREMLINS       ?= $(shell $(GO) env GOPATH)/bin/gremlins
MUTANTS        ?= 300
MUTATE_SEED    ?= 1
MUTATE_BUDGET  ?= 0
MUTATE_TIMEOUT ?= 5m
MUTATE_FLAGS   ?=
MUTATE_CAMPAIGN_RUN ?= ^(TestShardsMergeToTheWhole|TestStandardRoundExhaustive|TestBranchingEqualsReplay|TestDepthTwoOnSmallScenario|TestRegressions|TestOracleSelfTest)$$
.PHONY: mutate
mutate:
	@test -x $(GREMLINS) || $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
	@mkdir -p mutate-out
	$(GREMLINS) unleash --dry-run --silent -o mutate-out/store.json ./sync/store
	$(GREMLINS) unleash --dry-run --silent -o mutate-out/engine.json ./sync/engine
	$(GO) run ./scripts/mutate -enum mutate-out/store.json=sync/store -enum mutate-out/engine.json=sync/engine \
		-n $(MUTANTS) -seed $(MUTATE_SEED) -budget $(MUTATE_BUDGET) -timeout $(MUTATE_TIMEOUT) -campaign-run '$(MUTATE_CAMPAIGN_RUN)' \
		-results mutate-out/results.jsonl -equivalent scripts/mutate/equivalent.txt $(MUTATE_FLAGS)
