# ipabr: `make` builds ./ipabr, `make test` runs every test tier whose
# prerequisites are present, `make image` fetches Buildroot and builds the image.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/ipabr/ipabr/internal/app.version=$(VERSION)

SHELL := /bin/bash

.PHONY: all ipabr test image bench vet fmt clean
all: ipabr

ipabr:
	$(GO) build -ldflags '$(LDFLAGS)' -o ipabr ./cmd/ipabr

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...

# The full log goes to test.log; the report shows results, SKIP lines of
# missing tiers and the output of failing tests.
test: vet
	set -o pipefail; $(GO) test -count=1 -timeout 20m -json ./... | tee test.log | $(GO) run ./tools/testreport

image: ipabr
	./ipabr init
	./ipabr build

# Benchmarks: the stream parser (go test -bench), ipabr build against
# make > file on the fake Buildroot, and ipabr init against git submodule
# update (needs IPABR_BENCH_BUILDROOT or IPABR_TEST_BUILDROOT).
bench: ipabr
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/buildroot/
	./bench/build.sh
	@if [ -n "$${IPABR_BENCH_BUILDROOT:-$${IPABR_TEST_BUILDROOT:-}}" ]; then ./bench/init.sh; \
	else echo "SKIP bench init: IPABR_BENCH_BUILDROOT and IPABR_TEST_BUILDROOT unset"; fi

clean:
	rm -f ipabr
