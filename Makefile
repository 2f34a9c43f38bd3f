# clusterd: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
CONFIGURATION ?= Release
RID ?= linux-x64
CONFIG ?= etc/clusterd/clusterd.toml
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

OUT = net10.0
APPHOSTS = src/clusterd/bin/$(CONFIGURATION)/$(OUT)/clusterd \
           src/clusterctl/bin/$(CONFIGURATION)/$(OUT)/clusterctl \
           examples/hello/bin/$(CONFIGURATION)/$(OUT)/hello

.PHONY: all build run test test-unit test-integration publish check-config bench bench-quick clean

all: build

## build: compile everything; leaves bin/clusterd, bin/clusterctl and bin/hello (the example worker)
build:
	$(DOTNET) build clusterd.sln -c $(CONFIGURATION) -warnaserror
	@mkdir -p bin
	@for f in $(APPHOSTS); do ln -sf "$(CURDIR)/$$f" "bin/$$(basename $$f)"; done

## run: run clusterd in the foreground on the example config (Ctrl-C stops everything)
run: build
	bin/clusterd --config $(CONFIG)

## check-config: validate the example config, like nginx -t
check-config: build
	bin/clusterd --check-config --config $(CONFIG)

## test: every test, unit and integration (real processes and sockets on 127.0.0.1)
test: build
	rm -rf TestResults
	$(DOTNET) test clusterd.sln -c $(CONFIGURATION) --no-build --results-directory TestResults \
		--logger "trx" --logger "console;verbosity=normal"

test-unit: build
	$(DOTNET) test tests/Clusterd.Tests -c $(CONFIGURATION) --no-build

test-integration: build
	$(DOTNET) test tests/Clusterd.IntegrationTests -c $(CONFIGURATION) --no-build

## publish: NativeAOT binaries into dist/$(RID)/ (zero AOT/trim warnings: warnings are errors)
publish:
	$(DOTNET) publish src/clusterd -c Release -r $(RID) -p:PublishAot=true -warnaserror -o dist/$(RID)
	$(DOTNET) publish src/clusterctl -c Release -r $(RID) -p:PublishAot=true -warnaserror -o dist/$(RID)
	@rm -f dist/$(RID)/*.dbg dist/$(RID)/*.pdb

## bench: the whole benchmark harness (bench/), ~25 min; installs wrk/hyperfine/supervisor (apt) and PM2 (npm), writes BENCHMARKS.md
bench:
	bench/run.sh

## bench-quick: one short round of every part, to check the harness runs (numbers meaningless; writes bench/.work/)
bench-quick:
	bench/run.sh --quick

clean:
	$(DOTNET) clean clusterd.sln -c $(CONFIGURATION) >/dev/null
	rm -rf bin dist TestResults
