# cmcsync — see README.md.
SHELL := /bin/bash
GO      ?= go
# Unit packages: everything but the QEMU scenarios (they boot QEMU), which
# vm-test runs.
UNIT    = $(shell $(GO) list ./... | grep -v '/qemu/scenario')
FUZZTIME ?= 10s

.PHONY: all build test check deps lint unit fuzz-smoke vm-test vm-diff vm-daemon bench bench-wear fuzz run

all: build

build:
	$(GO) build -buildvcs=true -o bin/cmcsync ./cmd/cmcsync

# The README's test command, enough on a fresh Debian machine with Go, gcc,
# git and make: the host packages (deps), lint, the unit tests (including the
# bounded fault campaign and the headless-browser test), a short fuzz run,
# and the QEMU scenarios.
test: deps lint unit fuzz-smoke vm-test

# The quick loop while editing: lint and go test -short (-short skips the
# QEMU scenarios, and the browser test only where no Chromium is
# installed: internal/browsertest). Quick beside make test, not seconds:
# on a fresh clone 7 min 40 s wall at load 13 on 2 cores, lint 3 min 18 s
# of it; cmd/cmcsync, web, qemu/scenario and sync/engine take 1-2 min each.
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
	@echo "== go vet for 32-bit ARM (int is 32 bits there: shifts and constants)"
	CGO_ENABLED=0 GOARCH=arm GOARM=7 $(GO) vet ./...
	$(GO) mod tidy -diff

unit: deps
	$(GO) test -count=1 -timeout 20m $(UNIT)
	@echo "== the engine, store and HAL tests with a 32-bit int (GOARCH=386: the CMC guest is 32-bit ARM)"
	GOARCH=386 $(GO) test -count=1 -timeout 10m ./sync/... ./hal/... ./config/...
	$(MAKE) --no-print-directory cluster-test

# The campaign's Kubernetes Job and CI matrix (deploy/k8s, a module of its
# own): lint, then decode the manifests strictly, run the shards as local
# processes and merge them (deploy/k8s/README.md, The tests).
.PHONY: cluster-test
cluster-test:
	cd deploy/k8s && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...

# A brief run beyond their seed corpora of the simulator's differential
# fuzz target and of the decoders of what a CMC's services hand in (IPMI
# SEL and FRU, U-Boot legacy and FIT images). `make fuzz` runs every
# target longer.
#
# Each smoke run is bounded by a count of executions (NAME:PACKAGE:COUNT,
# about 10 s each on an idle 2-core machine), not by a duration: with a
# duration, Go 1.26's fuzz coordinator can fail a clean run with "context
# deadline exceeded" when the deadline falls while a worker is busy
# (golang/go#75804), and a loaded CI machine hits that window. The
# minimisation of each new interesting input is bounded by a count too:
# its default of 60 s stalled FuzzFIT for the whole smoke run.
FUZZSMOKE = FuzzDifferential:./sim:3000x FuzzSEL:./source/ipmi/sel:50000x FuzzFRU:./source/ipmi/fru:200000x \
	FuzzUImage:./source/fwimage:200000x FuzzFIT:./source/fwimage:50000x
FUZZMINIMIZE ?= 100x
fuzz-smoke:
	@set -e; for t in $(FUZZSMOKE); do \
		name=$${t%%:*}; rest=$${t#*:}; pkg=$${rest%%:*}; count=$${rest#*:}; \
		echo "$(GO) test -run '^$$' -fuzz '^$$name$$' -fuzztime $$count -fuzzminimizetime $(FUZZMINIMIZE) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$count -fuzzminimizetime $(FUZZMINIMIZE) $$pkg; \
	done

# The full log goes to vm-test.log; the terminal gets the test and scenario lines.
vm-test: deps
	$(GO) test -count=1 -timeout 60m -v ./qemu/scenario/... 2>&1 | tee vm-test.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|scenario' ; exit $${PIPESTATUS[0]}

# The differential, not part of `make test`: every cut point of the
# exhaustive standard campaign (campaign.WorldPoints) killed in QEMU at the
# exact operation and judged in both worlds, then one exact-cut replay line
# per shipped mutant that a cut can show (no-crc-check, threshold-ignored,
# no-write-probe and failover-no-restore need flips, failing probes or
# delays, which QEMU cannot apply: docs/DESIGN.md).
# Then the same on NAND: VMDIFF_NAND_POINTS cut points of the nand
# campaign scenario (factory bad blocks, one the round steps over) on the
# x86 guest's nandsim, with a bit flip the kernel's ECC corrects and
# counts, and the no-purge mutant cut at the commit (vm-diff-nand.log).
VMDIFF_POINTS ?= 0
VMDIFF_NAND_POINTS ?= 10
vm-diff: deps
	$(GO) run ./cmd/cmcsync vm scenario diff --points $(VMDIFF_POINTS) \
		--extra 'standard seed=1 mutant=no-purge | (on (at 439) cut) | none' \
		--extra 'standard seed=1 mutant=commit-before-durable | (on (at 100) cut) | none' \
		--extra 'standard seed=1 mutant=reinit-in-flight | (on (at 100) cut) | none' \
		--extra 'standard seed=1 mutant=primary-written | (on (at 0) cut) | none' \
		--extra 'standard seed=1 mutant=delta-before-durable | (on (at 426) cut) | none' \
		2>&1 | tee vm-diff.log | grep -E 'point|FAIL|passed|DIFFERENCE' ; exit $${PIPESTATUS[0]}
	$(GO) run ./cmd/cmcsync vm scenario nand-diff --points $(VMDIFF_NAND_POINTS) \
		--extra 'nand seed=1 mutant=no-purge | (on (at 379) cut) | none' \
		2>&1 | tee vm-diff-nand.log | grep -E 'point|kernel ECC|bad-block|FAIL|passed|DIFFERENCE' ; exit $${PIPESTATUS[0]}

# cmcsync serve in the emulated BMC on a CMC partition layout, 20 seeded
# power cuts during API syncs (docs/LAYOUT.md); the report goes to
# vm-daemon.json. make test's vm-test runs a 3-cycle sample with the browser
# test against the guest's daemon on its last boot.
vm-daemon: deps
	$(GO) run ./cmd/cmcsync vm scenario daemon-powercut --cycles 20 --seed 1 --json > vm-daemon.json

# The full default matrix (4 parts, both timing corners and erase models,
# 1, 8 and 32 MiB, every workload: many minutes, docs/MEASUREMENTS.md),
# then the Go benchmarks (1.5 min at load 10). BENCH_FLAGS=--quick is a
# short run (two parts, typical timings, 1 and 8 MiB, five workloads:
# 19 s at load 10; make bench BENCH_FLAGS=--quick took 2 min 19 s in all);
# any cmcsync bench flag goes there (cmcsync help bench).
BENCH_FLAGS ?=
bench:
	$(GO) run ./cmd/cmcsync bench --out bench-out $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchtime 3x ./bench/ ./sim/ ./sync/...

# The wear target (e) alone: 10,000 cmc-10m rounds (about 2 min of CPU).
bench-wear:
	$(GO) run ./cmd/cmcsync bench --wear --check

# One million seeded random schedules of the standard scenario (issue 12):
# MILLION_SHARDS processes (default: one per core), each one shard with one
# worker, side by side; then the shards' reports are merged. Each shard's
# report and log are in MILLION_DIR, the merged report in
# MILLION_DIR/report.json; the summary and the wall time are printed. The
# exit status is the merge's (0: every shard present and no violation).
# Not part of `make test`: see docs/MEASUREMENTS.md for how long it takes.
MILLION_COUNT  ?= 1000000
MILLION_SEED   ?= 1
MILLION_SHARDS ?= $(shell nproc)
MILLION_DIR    ?= campaign-million
.PHONY: campaign-million
campaign-million: build
	@mkdir -p $(MILLION_DIR) && rm -f $(MILLION_DIR)/shard-*.json $(MILLION_DIR)/shard-*.log $(MILLION_DIR)/report.json $(MILLION_DIR)/summary.txt
	@echo "== $(MILLION_COUNT) random schedules, seed $(MILLION_SEED), $(MILLION_SHARDS) shards (one process each) -> $(MILLION_DIR)/"
	@start=$$(date +%s); pids=(); \
	for k in $$(seq 0 $$(($(MILLION_SHARDS)-1))); do \
	  bin/cmcsync campaign --mode random --count $(MILLION_COUNT) --seed $(MILLION_SEED) --shard $$k/$(MILLION_SHARDS) --workers 1 --json \
	    > $(MILLION_DIR)/shard-$$k.json 2> $(MILLION_DIR)/shard-$$k.log & pids+=($$!); \
	done; \
	for k in $${!pids[@]}; do wait $${pids[$$k]}; rc=$$?; \
	  if [ $$rc -ne 0 ] && [ $$rc -ne 1 ]; then echo "shard $$k/$(MILLION_SHARDS) failed (exit $$rc): see $(MILLION_DIR)/shard-$$k.log"; tail -3 $(MILLION_DIR)/shard-$$k.log; fi; \
	done; \
	end=$$(date +%s); \
	bin/cmcsync campaign merge --json $(MILLION_DIR)/shard-*.json > $(MILLION_DIR)/report.json; \
	bin/cmcsync campaign merge $(MILLION_DIR)/shard-*.json > $(MILLION_DIR)/summary.txt 2>&1; rc=$$?; \
	grep -v -e '^VIOLATION' -e '^  replay' $(MILLION_DIR)/summary.txt; \
	echo "wall time: $$((end-start)) s on $$(nproc) cores; merged report: $(MILLION_DIR)/report.json, violations listed in $(MILLION_DIR)/summary.txt"; exit $$rc

# Longer fuzzing of every target, FUZZTIME each (a duration: on Go 1.26
# a run can end in a spurious "context deadline exceeded", golang/go#75804;
# a count such as FUZZTIME=1000000x avoids it), in the packages FUZZPKGS
# names (e.g. FUZZPKGS=./sync/...). A package whose tests do not build
# fails the run (its targets used to be skipped without a word).
FUZZPKGS ?= ./...
fuzz:
	@set -e; for p in $$($(GO) list $(FUZZPKGS)); do \
	  list=$$($(GO) test -list '^Fuzz' $$p) || { echo "$$list"; echo "fuzz: $$p: its tests do not build"; exit 1; }; \
	  for f in $$(echo "$$list" | grep '^Fuzz' || true); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$p; \
	  done; \
	done

# The daemon on its embedded default (README, Two commands): the binary
# built, then run, not `go run`: on Ctrl-C, which reaches the whole
# process group, `go run` exits 1 even when serve stopped cleanly (exit
# 0), and make then reported "Error 1".
run: build
	bin/cmcsync serve

# The lifecycle campaign in full: every operation of the daemon's life
# (format, first round, configuration change, upgrades, scrub and repair,
# restart) cut and torn, then each lifecycle mutant caught. make unit runs
# a seeded quarter of the cuts (TestLifecycle).
.PHONY: campaign-lifecycle
campaign-lifecycle:
	$(GO) run ./cmd/cmcsync campaign --scenario lifecycle
	@for m in config-not-durable upgrade-forgotten restore-forgotten scrub-repair-extra format-late-intent; do \
	  if $(GO) run ./cmd/cmcsync campaign --scenario lifecycle --mutant $$m --stop-after 1 >/dev/null 2>&1; then \
	    echo "mutant $$m not caught"; exit 1; else echo "mutant $$m caught"; fi; \
	done

# Mutation score (docs/MUTATION.md): Gremlins enumerates the mutants of
# sync/store and sync/engine (default operators), scripts/mutate tests a
# seeded sample of them, campaign tests first, then the unit tests. Results
# are kept per mutant in mutate-out/results.jsonl: rerunning continues. Not
# part of `make test`. MUTATE_JOBS mutants are tested at once (0: one per
# CPU; they start in draw order, each with GOMAXPROCS=CPUs/jobs);
# MUTATE_BUDGET stops starting mutants after that long (the ones started
# finish); Ctrl-C drops the ones in progress. No verdict depends on wall
# time: each stage's CPU limit is MUTATE_CPU_FACTOR × its CPU on the
# unmutated tree (the baseline, run with -count=1, remembered in
# mutate-out/baseline.json for an unchanged tree) + MUTATE_CPU_MARGIN, and
# a mutant whose stage's process tree (go test and its test binaries)
# passes it is killed (timed out), stopped at once; a stage stopped by the
# wall limit MUTATE_TIMEOUT under its CPU limit is inconclusive (the
# machine's load): recorded, not counted, tested again by the next run. So
# the wall limit only bounds a hang that burns no CPU: 20m, since on a loaded
# machine a passing campaign stage (about 100-120 CPU s) takes minutes.
GREMLINS       ?= $(shell $(GO) env GOPATH)/bin/gremlins
MUTANTS        ?= 300
MUTATE_SEED    ?= 1
MUTATE_BUDGET  ?= 0
MUTATE_TIMEOUT ?= 20m
MUTATE_JOBS    ?= 0
MUTATE_CPU_FACTOR ?= 3
MUTATE_CPU_MARGIN ?= 30s
MUTATE_FLAGS   ?=
MUTATE_CAMPAIGN_RUN ?= ^(TestShardsMergeToTheWhole|TestStandardRoundExhaustive|TestBranchingEqualsReplay|TestDepthTwoOnSmallScenario|TestRegressions|TestOracleSelfTest|TestNANDCampaignShard|TestLongRunCampaignShard|TestLifecycleCampaignShard|TestOldFormatRoundUpgrades|TestDenseChainsReachTheLimit|TestOldFormatCampaign|TestDenseCampaign|TestDenseWholeRoundReleases|TestDenseWholeCampaign|TestDenseManyBlocksEndAtTheEntryCount|TestDenseManyCampaign|TestScrubRepairExtraIsCaught|TestDenseCapRoundFitsTheRecordCap|TestOldStoreBases|TestOldStoreCampaign|TestScrubFindsThePrimaryDamagedToo|TestMisdirectedRecordIsReported|TestFormatCutsResume)$$
# The enumeration (about a minute: Gremlins runs the package's tests for
# coverage first) is redone only when a file of the package changed (the
# engine's also when the store's did: its tests run on it).
MUTATE_STORE_SRC  := $(wildcard sync/store/*.go)
MUTATE_ENGINE_SRC := $(wildcard sync/engine/*.go)
mutate-out/store.json: $(MUTATE_STORE_SRC)
	@test -x $(GREMLINS) || $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
	@mkdir -p mutate-out
	$(GREMLINS) unleash --dry-run --silent -o $@.tmp ./sync/store && mv $@.tmp $@
mutate-out/engine.json: $(MUTATE_ENGINE_SRC) $(MUTATE_STORE_SRC)
	@test -x $(GREMLINS) || $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
	@mkdir -p mutate-out
	$(GREMLINS) unleash --dry-run --silent -o $@.tmp ./sync/engine && mv $@.tmp $@
.PHONY: mutate
mutate: mutate-out/store.json mutate-out/engine.json
	$(GO) run ./scripts/mutate -enum mutate-out/store.json=sync/store -enum mutate-out/engine.json=sync/engine \
		-n $(MUTANTS) -seed $(MUTATE_SEED) -jobs $(MUTATE_JOBS) -budget $(MUTATE_BUDGET) -timeout $(MUTATE_TIMEOUT) -cpu-factor $(MUTATE_CPU_FACTOR) -cpu-margin $(MUTATE_CPU_MARGIN) -campaign-run '$(MUTATE_CAMPAIGN_RUN)' \
		-results mutate-out/results.jsonl -equivalent scripts/mutate/equivalent.txt $(MUTATE_FLAGS)
