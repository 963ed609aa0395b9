# `make demo` and `make test` work from a fresh clone: each builds .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test compat bench clean system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/gt demo

test: $(VENV)/.installed system-packages
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 tests

# Just the beads compatibility tests (tests/compat, which `make test` runs too): beads-mcp 1.3.2's client
# and its own test suite against our bd. The first run fetches beads-mcp from PyPI into ~/.cache/gt-tests.
compat: $(VENV)/.installed
	$(BIN)/python -m pytest tests/compat -v

# Programs the tests drive for real, from Debian's packages when they are missing and apt-get can
# (as root, or with sudo -n): sshd (`bd sync` over ssh://), npm (fetches the real Claude Code and
# Codex binaries, cached in ~/.cache/gt-tests), tmux (interactive sessions), unshare (the runtimes
# as an unprivileged user), chromium and chromedriver (`gt dashboard` seen in a headless browser).
# Without them those tests are skipped, or fail under CI=true.
SYSTEM_PACKAGES := sshd:openssh-server npm:npm tmux:tmux unshare:util-linux chromium:chromium chromedriver:chromium-driver

system-packages:
	@missing=; for pair in $(SYSTEM_PACKAGES); do \
	  cmd=$${pair%%:*}; pkg=$${pair#*:}; \
	  if ! command -v $$cmd >/dev/null 2>&1 && [ ! -x /usr/sbin/$$cmd ]; then missing="$$missing $$pkg"; fi; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi; \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$sudo" != none ]; then \
	    echo "installing$$missing (for the tests that use them)"; \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing and not installable here:$$missing (the tests that need them are skipped)"; fi; \
	fi

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
