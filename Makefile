# The two commands: `make demo` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Our packages: linted, formatted and type-checked (mypy --strict) together with tests/.
PKGS   := station device_protocol fixtures

.PHONY: demo test test-fast lint venv system-deps clean agent mbedtls

venv: $(STAMP)

# Rebuilt only when pyproject.toml changes; a fresh Debian may lack python3-venv.
$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3-venv missing; installing it"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Tools the tests use as independent verifiers, and SoftHSM2 (a real PKCS#11 token; each test run
# makes its own token in a temp dir through SOFTHSM2_CONF, never touching /var/lib/softhsm).
system-deps:
	@command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
	@command -v softhsm2-util >/dev/null || { apt-get update -qq && apt-get install -y -qq softhsm2 >/dev/null; }

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
