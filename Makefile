# `make demo` and `make test` work from a fresh clone: each builds .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean sshd

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/gt demo

test: $(VENV)/.installed sshd
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 tests

# The sync tests run `bd sync` over ssh:// against a real sshd (Debian's openssh-server), started by
# the test itself. Installed here when it is missing and apt-get can (as root, or with sudo -n);
# without it that test is skipped, or fails under CI=true.
sshd:
	@if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi; \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$sudo" != none ]; then \
	    echo "installing openssh-server (for the ssh sync test)"; \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null; \
	  else echo "sshd is missing and cannot be installed here: the ssh sync test will be skipped"; fi; \
	fi

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
