# Developer tasks. `make test` is what CI runs (scripts/test); `make fuzz`
# runs every fuzz target of the repository, FUZZTIME each, one after another.

SHELL    := bash
GO       ?= go
# How long each fuzz target runs (go test -fuzztime: 30s, 1m, or 10000x).
FUZZTIME ?= 30s
# Which fuzz targets run: an extended regular expression on their names.
FUZZ     ?= .

.PHONY: test fmt vet fuzz fuzz-list

# The whole suite with the race detector, after installing the programs the
# tests drive (see scripts/test).
test:
	scripts/test

fmt:
	$(GO) fmt ./...

vet:
	$(GO) vet ./...

# Every func FuzzXxx(f *testing.F) in a _test.go file, as "<dir> <name>".
FUZZ_FIND = grep -rEo --include='*_test.go' --exclude-dir=.git --exclude-dir=testdata \
	'^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' . \
	| sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\(.*$$|\1 \2|' | sort -u \
	| awk -v re='$(FUZZ)' '$$2 ~ re'

fuzz-list:
	@$(FUZZ_FIND)

# Runs each target for FUZZTIME, goes on after a failure, and fails at the
# end naming the targets that failed. A failing input is written to the
# package's testdata/fuzz/<Name>/: commit it with the fix.
fuzz:
	@targets=$$($(FUZZ_FIND)); \
	[ -n "$$targets" ] || { echo "fuzz: no target matches $(FUZZ)" >&2; exit 1; }; \
	failed=""; \
	while read -r dir name; do \
		echo "fuzz: $$name in $$dir for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$dir" </dev/null \
			|| failed="$$failed $$dir:$$name"; \
	done <<< "$$targets"; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed" >&2; exit 1; fi; \
	echo "fuzz: every target ran $(FUZZTIME) without a failure"
