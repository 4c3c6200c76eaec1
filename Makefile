# eddy — see README.md. `make run` and `make test` are the two commands.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
GO ?= go
BIN := bin
export PATH := $(shell $(GO) env GOPATH)/bin:$(PATH)

# Packages whose tests exercise concurrency run under the race detector.
RACE_PKGS := ./broker/... ./storage/... ./internal/engine/... ./internal/e2e/... ./internal/interop/... ./stream/... ./table/... ./window/... ./internal/scaleout/...
FUZZ_TIME ?= 10s
SOAK_CYCLES ?= 50

.PHONY: build run test test-go bench soak fuzz fuzz-short lint deps clean

build:
	$(GO) build -o $(BIN)/eddy ./cmd/eddy

# The click counter on the embedded broker: generate clicks, count the mobile
# ones per page with a stream app, print the top pages and the throughput,
# check every count (non-zero exit on a mismatch).
run:
	$(GO) build -o $(BIN)/clickcount ./examples/clickcount
	./$(BIN)/clickcount -data ./data/clickcount

# Everything the tests need, then every test, lint, a short crash loop and a
# short fuzz run.
test: deps lint test-go fuzz-short
	@echo "make test: all green"

test-go:
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -e '/broker' -e '/storage' -e '/internal/engine' -e '/internal/e2e' -e '/internal/interop' -e '/stream' -e '/table' -e '/window' -e '/internal/scaleout' -e '/internal/soak')
	EDDY_E2E_BACKEND=wire $(GO) test -count=1 ./internal/e2e/
	EDDY_E2E_BACKEND=kafka $(GO) test -count=1 ./internal/e2e/
	EDDY_SOAK_CYCLES=5 $(GO) test -count=1 -run 'CrashLoop' -v ./internal/soak/... 2>&1 | tail -n 20

# Installs the tools the tests use. Idempotent; safe on a fresh machine.
deps:
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	./scripts/install-test-deps.sh

lint: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	staticcheck ./...

# Benchmarks that print figures next to the machine's measured ceilings.
bench:
	$(GO) run ./benchmarks/logbench -dir $${EDDY_BENCH_DIR:-./.cache/bench}/log
	$(GO) run ./benchmarks/streambench -dir $${EDDY_BENCH_DIR:-./.cache/bench}/stream
	$(GO) run ./benchmarks/windowbench -dir $${EDDY_BENCH_DIR:-./.cache/bench}/window
	$(GO) build -o $(BIN)/wirebench ./benchmarks/wirebench && ./$(BIN)/wirebench -dir $${EDDY_BENCH_DIR:-./.cache/bench}/wire
	$(GO) run ./benchmarks/nexmark/bench -dir $${EDDY_BENCH_DIR:-./.cache/bench}/nexmark

# Long crash loop: kill -9 a writer process $(SOAK_CYCLES) times.
soak:
	EDDY_SOAK_CYCLES=$(SOAK_CYCLES) $(GO) test -count=1 -timeout 60m -run 'CrashLoop' -v ./internal/soak/...
	EDDY_SOAK_CYCLES=$(SOAK_CYCLES) $(GO) test -count=1 -timeout 60m -run 'TestRestartKillUnderLoad' -v ./internal/interop/

# Long fuzzing of every fuzz target, $(FUZZ_TIME) each (FUZZ_TIME=10m make fuzz).
fuzz:
	@for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
	  pkg=./$$(dirname $$f); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
	    echo "fuzz $$pkg $$t ($(FUZZ_TIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZ_TIME) $$pkg; \
	  done; done

# A brief fuzz of every target beyond its seed corpus (which go test runs anyway).
# A count, not a duration: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a -fuzztime duration ends on a loaded
# machine (golang/go#75804, fixed in Go 1.27); a count has no deadline.
fuzz-short:
	$(MAKE) fuzz FUZZ_TIME=30000x

clean:
	rm -rf $(BIN) ./data ./.cache

# A real Apache Kafka 4 (single node, KRaft, 127.0.0.1:19092) for the sarama
# backend's tests: fetched once from Maven Central into .cache/kafka (needs
# java and mvn). The tests start it themselves when EDDY_KAFKA_BROKERS is unset.
.PHONY: kafka-up kafka-down
kafka-up:
	./scripts/kafka.sh up

kafka-down:
	./scripts/kafka.sh down
