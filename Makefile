# cmcsync — see README.md.
SHELL := /bin/bash
GO      ?= go
PKG     := ./...
# Unit packages: everything but the QEMU scenarios, which vm-test runs.
UNIT    = $(shell $(GO) list ./... | grep -v '/qemu')
FUZZTIME ?= 10s

.PHONY: all build test unit vm-test fuzz-smoke bench fuzz lint run tidy-check

all: build

build:
	$(GO) build -o bin/cmcsync ./cmd/cmcsync

# The README's test command: lint, unit tests (including the bounded fault
# campaign and the headless-browser test), a short fuzz run, and the QEMU
# scenarios.
test: lint unit fuzz-smoke vm-test

unit:
	$(GO) test -count=1 -timeout 20m $(UNIT)

# A brief run of the differential fuzz target beyond its seed corpus.
fuzz-smoke:
	$(GO) test -run '^$$' -fuzz '^FuzzDifferential$$' -fuzztime $(FUZZTIME) ./sim

vm-test:
	$(GO) test -count=1 -timeout 25m -v ./qemu/... 2>&1 | tee vm-test.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|scenario' ; exit $${PIPESTATUS[0]}

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

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	# The CMC guest is 32-bit ARM: everything must build there too.
	CGO_ENABLED=0 GOARCH=arm GOARM=7 $(GO) build -o /dev/null ./cmd/cmcsync

tidy-check:
	$(GO) mod tidy -diff

run:
	$(GO) run ./cmd/cmcsync serve
