# ipabr: `make` builds ./ipabr, `make test` runs every test tier whose
# prerequisites are present, `make image` fetches Buildroot and builds the image.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The commit too: Go's own VCS stamp is missing with -buildvcs=false
# (GOFLAGS in some build environments) and in a copy without .git.
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/ipabr/ipabr/internal/app.version=$(VERSION) -X github.com/ipabr/ipabr/internal/app.commit=$(COMMIT)

SHELL := /bin/bash

.PHONY: all ipabr test image bench vet fmt clean docs cross
all: ipabr

# Static: no dynamic loader and C library to set up on every start.
ipabr:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o ipabr ./cmd/ipabr

# The command reference, generated from the commands' own help
# (doc/reference/*.md, doc/man/*.1); TestReferenceIsCurrent fails when the
# committed pages differ from a fresh generation.
docs:
	$(GO) run ./tools/gendocs

# ipabr builds off Linux too (Buildroot itself needs Linux; ipabr says so
# at run time).
cross:
	GOOS=darwin $(GO) build ./...
	GOOS=freebsd $(GO) build ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...

# The full log goes to test.log; the report shows results, SKIP lines of
# missing tiers and the output of failing tests.
test: vet cross
	set -o pipefail; $(GO) test -count=1 -timeout 20m -json ./... | tee test.log | $(GO) run ./tools/testreport

# Static analysis and known vulnerabilities (doc/farm.md), run by .ci/run.
# Versions are pinned; the tools come from the Go module proxy, the
# vulnerability database from the golang.org/x/vulndb module (no vuln.go.dev).
STATICCHECK_VERSION ?= v0.8.2
GOVULNCHECK_VERSION ?= v1.9.0
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
.PHONY: lint vulncheck fuzz
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

vulncheck:
	$(GO) run ./tools/vulncheck -vulndb $(VULNDB_VERSION) -govulncheck $(GOVULNCHECK_VERSION) $(if $(STRICT),-strict) ./...

# Each fuzz target for FUZZTIME (default 5m), one after the other.
FUZZTIME ?= 5m
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$t ($$pkg)"; $(GO) test -run XXX -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

image: ipabr
	./ipabr init
	./ipabr build

# Benchmarks: the stream parser (go test -bench), ipabr build against
# make > file on the fake Buildroot, and everyday commands (init, status,
# version, --help) against git (init and status need IPABR_BENCH_BUILDROOT
# or IPABR_TEST_BUILDROOT, and say SKIP without).
bench: ipabr
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/buildroot/
	./bench/build.sh
	./bench/everyday.sh

clean:
	rm -f ipabr
