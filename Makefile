# The two commands: `make demo` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Our packages: linted, formatted and type-checked (mypy --strict) together with tests/.
PKGS   := station device_protocol fixtures
# Hash-pinned locks made by `make lock` from pyproject.toml: dev (runtime + dev tools, what the
# venv and CI install) and runtime (what a line PC needs).
LOCK         := requirements/dev.lock
RUNTIME_LOCK := requirements/runtime.lock

.PHONY: demo test test-fast lint venv lock system-deps clean agent mbedtls

venv: $(STAMP)

# Every dependency, runtime and dev, comes from the hash-pinned lock; the project itself is then
# installed without resolving anything. Rebuilt when the lock or pyproject.toml changes; a fresh
# Debian may lack python3-venv.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3-venv missing; installing it"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

# Refresh the locks on purpose (after a change to pyproject.toml's dependencies): pins already
# in the lock are kept unless pyproject.toml excludes them; `make lock UPGRADE=1` moves every
# pin to the newest release. The only way the locks change. uv itself is pinned here.
UV_VERSION  := 0.13.8
LOCK_TOOL   := build/lock-tool
UV          := $(LOCK_TOOL)/bin/uv
UV_COMPILE  := $(UV) pip compile -q --generate-hashes --universal --python-version 3.11 \
               --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

$(UV):
	$(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/python -m pip install -q uv==$(UV_VERSION)

lock: $(UV)
	$(UV_COMPILE) pyproject.toml --extra dev -o $(LOCK)
	$(UV_COMPILE) pyproject.toml -c $(LOCK) -o $(RUNTIME_LOCK)

# Tools the tests use as independent verifiers, SoftHSM2 (a real PKCS#11 token; each test run
# makes its own token in a temp dir through SOFTHSM2_CONF, never touching /var/lib/softhsm), and
# Debian's PostgreSQL server (the factory store's tests start their own throwaway cluster).
system-deps:
	@command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
	@command -v softhsm2-util >/dev/null || { apt-get update -qq && apt-get install -y -qq softhsm2 >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }

demo: venv
	$(BIN)/station demo

# lint-imports checks the import contracts in pyproject.toml ([tool.importlinter]): layers, Textual
# only in station/tui, device_protocol standing alone.
lint: venv
	$(BIN)/ruff check $(PKGS) tests
	$(BIN)/ruff format --check $(PKGS) tests
	$(BIN)/mypy $(addprefix -p ,$(PKGS))
	$(BIN)/lint-imports

test: venv system-deps lint agent
	$(BIN)/python -m pytest -q

# The pure tests only (no processes, ptys or Textual pilot; tests/tiers.py decides): under a minute.
test-fast: venv
	$(BIN)/python -m pytest -q --fast

# The C reference agent (device_protocol/agent): portable C99 core + POSIX HAL + mbedTLS 2.28.
AGENT_DIR  := device_protocol/agent
AGENT_SRC  := $(addprefix $(AGENT_DIR)/,agent.c frame.c codec.c crypto_mbedtls.c hal_posix.c main_posix.c)
AGENT_HDR  := $(wildcard $(AGENT_DIR)/*.h)
AGENT_BIN  := build/agent/station-agent
AGENT_CC   ?= gcc
AGENT_CFLAGS ?= -std=c99 -Wall -Wextra -Werror -pedantic -O2

agent: $(AGENT_BIN)

mbedtls:
	@dpkg -s libmbedtls-dev >/dev/null 2>&1 || (apt-get update && apt-get install -y libmbedtls-dev)

$(AGENT_BIN): $(AGENT_SRC) $(AGENT_HDR) | mbedtls
	@mkdir -p $(dir $@)
	$(AGENT_CC) $(AGENT_CFLAGS) -o $@ $(AGENT_SRC) -lmbedx509 -lmbedtls -lmbedcrypto

clean:
	rm -rf build $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
