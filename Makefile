# SPDX-License-Identifier: AGPL-3.0-or-later
# Two commands for a new user (see README.md):
#   make demo    set up, build, and run the demo on the embedded SQLite store
#   make check   set up, build, and run every test (normal and ASan+UBSan
#                builds), the conformance suite, a short fuzz run and lint
BUILD   ?= build
ASAN    ?= build-asan
FUZZ    ?= build-fuzz
FUZZ_SECONDS ?= 20
FUZZ_TIME ?= 300
FUZZ_TARGETS ?=
MESON_FLAGS ?=

.PHONY: all deps deps-check web build asan ipdb demo check test test-asan lint fuzz-build fuzz-smoke fuzz fuzz-ledger bench clean format

all: build

deps:
	@scripts/deps.sh

deps-check:
	@scripts/deps.sh check

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

# The web console (web/: Vite + TypeScript + Vue), built into web/dist, which
# `liaison serve` serves at /console/. Rebuilt when a source or the lockfile
# changes; the packages come from npm by the lockfile (web/node_modules).
WEB_SRC := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json web/vite.config.ts web/tsconfig.json

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build --silent
	@touch $@

web: deps web/dist/index.html

# The reference CSAF 2.0 validator for the advisory tests (tests/csaf, by its lockfile). Without
# npm or the registry the build goes on and the test csaf_validator skips (77).
tests/csaf/node_modules/.package-lock.json: tests/csaf/package-lock.json
	@(cd tests/csaf && npm ci --no-audit --no-fund --ignore-scripts) || \
	  echo "csaf: npm could not install the CSAF validator; the test csaf_validator will skip"
	@[ ! -d tests/csaf/node_modules ] || touch $@

build: deps $(BUILD)/build.ninja web/dist/index.html tests/csaf/node_modules/.package-lock.json
	ninja -C $(BUILD)

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug $(MESON_FLAGS)

asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)

$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized

fuzz-build: deps $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

# Real IP data for the demo (npm, ip-location-db; cached in data/ipdb/node_modules).
ipdb:
	@scripts/deps.sh demo
	@if command -v npm >/dev/null 2>&1; then \
	  [ -f data/ipdb/node_modules/@ip-location-db/asn/asn-ipv4.csv ] || \
	  (cd data/ipdb && npm ci --no-audit --no-fund --ignore-scripts) || \
	  echo "demo: npm could not fetch the IP data; the demo runs without it"; \
	else echo "demo: npm not found; the demo runs without real IP data"; fi

demo: build ipdb
	@rm -rf demo && mkdir -p demo
	./$(BUILD)/src/cli/liaison --db demo/liaison.db demo

test: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

test-asan: asan
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
	  meson test -C $(ASAN) --print-errorlogs --num-processes 2

lint:
	@scripts/lint.sh

fuzz-smoke: fuzz-build
	@scripts/fuzz-smoke.sh $(FUZZ) $(FUZZ_SECONDS)

# Fuzzing as a habit: every target (or FUZZ_TARGETS="csv stix") for FUZZ_TIME
# seconds each; new coverage is merged into fuzz/corpus/, each run recorded
# in fuzz/ledger.tsv (commit both). make fuzz-ledger: CPU-hours per target.
fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-ledger:
	@scripts/fuzz.sh --ledger

bench: build
	@scripts/bench.sh $(BUILD)

# Everything, ending with one "N passed, N failed" line over all suites.
check: deps-check lint
	@rm -f .check-results
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory test || echo "test failed" >> .check-results
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory test-asan || echo "test-asan failed" >> .check-results
	@$(MAKE) --no-print-directory fuzz-smoke || echo "fuzz-smoke failed" >> .check-results
	@python3 scripts/test-summary.py $(BUILD) $(ASAN) $(FUZZ)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) demo .check-results

# Reformat the C sources with the repository's .clang-format.
format:
	clang-format -i $$(git ls-files '*.c' '*.h')
