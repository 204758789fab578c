# cmcsync — see README.md.
SHELL := /bin/bash
GO      ?= go
# Unit packages: everything but the QEMU scenarios (they boot QEMU), which
# vm-test runs.
UNIT    = $(shell $(GO) list ./... | grep -v '/qemu/scenario')
FUZZTIME ?= 10s

.PHONY: all build test check deps lint unit fuzz-smoke vm-test vm-diff bench fuzz run

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
	$(GO) test -count=1 -timeout 45m -v ./qemu/scenario/... 2>&1 | tee vm-test.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|scenario' ; exit $${PIPESTATUS[0]}

# The differential, not part of `make test`: every cut point of the
# exhaustive standard campaign (campaign.WorldPoints) killed in QEMU at the
# exact operation and judged in both worlds, then one exact-cut replay line
# per shipped mutant that a cut can show (no-crc-check and
# threshold-ignored need flips and delays, which QEMU cannot apply).
VMDIFF_POINTS ?= 0
vm-diff: deps
	$(GO) run ./cmd/cmcsync vm scenario diff --points $(VMDIFF_POINTS) \
		--extra 'standard seed=1 mutant=no-purge | (on (at 487) cut) | none' \
		--extra 'standard seed=1 mutant=commit-before-durable | (on (at 100) cut) | none' \
		--extra 'standard seed=1 mutant=reinit-in-flight | (on (at 100) cut) | none' \
		--extra 'standard seed=1 mutant=primary-written | (on (at 0) cut) | none' \
		2>&1 | tee vm-diff.log | grep -E 'point|FAIL|passed|DIFFERENCE' ; exit $${PIPESTATUS[0]}

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
