# clusterd: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
CONFIGURATION ?= Release
RID ?= linux-x64
CONFIG ?= etc/clusterd/clusterd.toml
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
DIST = dist/$(RID)
DEB = dist/clusterd_$(VERSION)_amd64.deb

# make install: PREFIX for binaries, units, man pages; SYSCONFDIR for the config; DESTDIR for staging (packages).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib/clusterd
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/clusterd
# The shipped units and config name the .deb's paths (/usr/bin, /usr/lib/clusterd, /usr/share/doc/clusterd,
# /etc/clusterd); install rewrites them to the ones above.
SUBST = sed -e 's|/usr/bin/clusterd|$(BINDIR)/clusterd|g' \
            -e 's|/usr/lib/clusterd/|$(LIBDIR)/|g' \
            -e 's|/usr/share/doc/clusterd/|$(DOCDIR)/|g' \
            -e 's|/etc/clusterd/|$(SYSCONFDIR)/clusterd/|g' \
            -e 's|@VERSION@|$(VERSION)|g'

OUT = net10.0
APPHOSTS = src/clusterd/bin/$(CONFIGURATION)/$(OUT)/clusterd \
           src/clusterctl/bin/$(CONFIGURATION)/$(OUT)/clusterctl \
           examples/hello/bin/$(CONFIGURATION)/$(OUT)/hello

.PHONY: all build run test test-unit test-integration test-system publish check-config check-macos install deb image bench bench-quick clean

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

## test: every test: unit, integration (real processes and sockets on 127.0.0.1) and system (the .deb, the units, and
## the .deb installed in a container booting systemd; those need docker/debootstrap and skip without them unless CI=true)
test: build deb
	rm -rf TestResults
	$(DOTNET) test clusterd.sln -c $(CONFIGURATION) --no-build --results-directory TestResults \
		--logger "trx" --logger "console;verbosity=normal"

test-unit: build
	$(DOTNET) test tests/Clusterd.Tests -c $(CONFIGURATION) --no-build

test-integration: build
	$(DOTNET) test tests/Clusterd.IntegrationTests -c $(CONFIGURATION) --no-build

test-system: build deb
	$(DOTNET) test tests/Clusterd.SystemTests -c $(CONFIGURATION) --no-build --logger "console;verbosity=normal"

## publish: NativeAOT binaries and clusterd-exec (the exec helper, C) into dist/$(RID)/, and the example worker into
## dist/$(RID)/hello/ (zero AOT/trim warnings: warnings are errors). None of them needs .NET installed to run.
publish:
	$(DOTNET) publish src/clusterd -c Release -r $(RID) -p:PublishAot=true -warnaserror -o $(DIST)
	$(DOTNET) publish src/clusterctl -c Release -r $(RID) -p:PublishAot=true -warnaserror -o $(DIST)
	$(DOTNET) publish examples/hello -c Release -r $(RID) -p:PublishAot=true -warnaserror -o $(DIST)/hello
	@rm -f $(DIST)/*.dbg $(DIST)/*.pdb $(DIST)/hello/*.dbg $(DIST)/hello/*.pdb

$(DIST)/clusterd $(DIST)/clusterctl $(DIST)/clusterd-exec $(DIST)/hello/hello:
	$(MAKE) publish

## check-macos: the macOS build compiles (osx-arm64, framework-dependent: no NativeAOT packages exist for it here)
check-macos:
	$(DOTNET) publish src/clusterd -c Release -r osx-arm64 --self-contained false -p:PublishAot=false -warnaserror -o dist/osx-arm64
	$(DOTNET) publish src/clusterctl -c Release -r osx-arm64 --self-contained false -p:PublishAot=false -warnaserror -o dist/osx-arm64

## install: the published binaries, units, sysusers/tmpfiles, man pages and (unless one exists) the config.
## `make publish` first (as your user), then `sudo make install`; PREFIX=/usr/local, DESTDIR= for staging.
install: $(DIST)/clusterd $(DIST)/clusterctl $(DIST)/clusterd-exec $(DIST)/hello/hello
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/hello $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/clusterd
	install -m 0755 $(DIST)/clusterd $(DIST)/clusterctl $(DESTDIR)$(BINDIR)/
	install -m 0755 $(DIST)/clusterd-exec $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(DIST)/hello/hello $(DESTDIR)$(LIBDIR)/hello/
	install -m 0644 $(DIST)/hello/appsettings.json $(DESTDIR)$(LIBDIR)/hello/
	for f in clusterd.service clusterd.socket; do \
		$(SUBST) packaging/systemd/$$f > $(DESTDIR)$(UNITDIR)/$$f && chmod 0644 $(DESTDIR)$(UNITDIR)/$$f || exit 1; done
	install -m 0644 packaging/sysusers.d/clusterd.conf $(DESTDIR)$(SYSUSERSDIR)/clusterd.conf
	install -m 0644 packaging/tmpfiles.d/clusterd.conf $(DESTDIR)$(TMPFILESDIR)/clusterd.conf
	$(SUBST) packaging/man/clusterd.8 | gzip -9n > $(DESTDIR)$(MANDIR)/man8/clusterd.8.gz
	$(SUBST) packaging/man/clusterctl.1 | gzip -9n > $(DESTDIR)$(MANDIR)/man1/clusterctl.1.gz
	install -m 0644 docs/config.md docs/install.md packaging/launchd/org.clusterd.clusterd.plist $(DESTDIR)$(DOCDIR)/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/clusterd/clusterd.toml ]; then \
		echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/clusterd/clusterd.toml (the new default is $(DOCDIR)/clusterd.toml.example)"; \
		$(SUBST) packaging/etc/clusterd.toml > $(DESTDIR)$(DOCDIR)/clusterd.toml.example; \
	else \
		$(SUBST) packaging/etc/clusterd.toml > $(DESTDIR)$(SYSCONFDIR)/clusterd/clusterd.toml; \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/clusterd/clusterd.toml; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemd-sysusers $(SYSUSERSDIR)/clusterd.conf; systemctl daemon-reload; \
		echo "installed; start with: systemctl enable --now clusterd"; fi

## deb: dist/clusterd_$(VERSION)_amd64.deb (dpkg-deb; the same files as `make install PREFIX=/usr`)
deb: publish
	packaging/deb/build-deb.sh "$(VERSION)" "$(DIST)" "$(DEB)"

## image: the OCI image clusterd:$(VERSION) from the .deb, on a Debian 12 base made here with debootstrap (nothing is
## pulled; docs/containers.md). Needs root, debootstrap and a running dockerd.
image: deb
	packaging/docker/build-image.sh "$(VERSION)" "$(DEB)"

## bench: the whole benchmark harness (bench/), ~30 min; installs wrk/hyperfine/supervisor (apt) and PM2 (npm), writes BENCHMARKS.md
bench:
	bench/run.sh

## bench-quick: one short round of every part, to check the harness runs (numbers meaningless; writes bench/.work/)
bench-quick:
	bench/run.sh --quick

## fuzz: coverage-guided fuzzing (libFuzzer + SharpFuzz) of FUZZ_TARGET (default config: the config loader) for
## FUZZ_SECONDS (default 60) from tests/fuzz/corpus/; fails on any crash, hang or exception (docs/security.md).
## Needs clang-14 (or clang) and libclang-rt-14-dev; installs nothing.
FUZZ_TARGET ?= config
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	tests/Clusterd.Fuzz/fuzz.sh $(FUZZ_TARGET) $(FUZZ_SECONDS)

clean:
	$(DOTNET) clean clusterd.sln -c $(CONFIGURATION) >/dev/null
	rm -rf bin dist TestResults

## chaos: the chaos test (tests/Clusterd.IntegrationTests/Supervision/ChaosTests.cs) for CHAOS_SECONDS (default 600):
## workers and their children killed, stopped, rolled, reloaded and scaled under load; make test runs it for 20 s.
## CHAOS_SEED repeats a run. Prints what it did and what it cost (docs/reliability.md records a 10-minute run).
.PHONY: chaos
CHAOS_SECONDS ?= 600
chaos: build
	CHAOS_SECONDS=$(CHAOS_SECONDS) $(DOTNET) test tests/Clusterd.IntegrationTests -c $(CONFIGURATION) --no-build \
		--filter "FullyQualifiedName~ChaosTests" --logger "console;verbosity=detailed"
