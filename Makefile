# The README's two commands: `make run` (all daemons on the embedded default)
# and `make test` (everything: vet, format, unit, integration with the real
# Postfix/Dovecot/OpenDKIM/SpamAssassin, and a short run of every fuzz target).
GO ?= go

.PHONY: run build test vet fmt-check unit fuzz-smoke openssl

run:
	$(GO) run ./cmd/gomilter serve

build:
	$(GO) build -o gomilter ./cmd/gomilter

test: vet fmt-check fuzz-smoke unit openssl

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -shuffle=on -timeout 25m ./...

# The optional OpenSSL-backed RSA signer (go build -tags openssl) must sign
# exactly as the default Go signer does.
openssl:
	$(GO) vet -tags openssl ./milter/dkim
	$(GO) test -tags openssl ./milter/dkim ./internal/mailfilter

# Each fuzz target runs a few thousand inputs beyond its seed corpus, so CI
# exercises every fuzzer; long runs are for developers (-fuzztime=10m).
FUZZTIME ?= 3000x
fuzz-smoke:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1x -timeout 5m $$pkg > /tmp/gomilter-fuzz.log 2>&1 || { cat /tmp/gomilter-fuzz.log; exit 1; }; \
	  done; \
	done
