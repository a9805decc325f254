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

.PHONY: demo test test-fast lint venv lock system-deps clean agent mbedtls agent-qemu \
        agent-qemu-run arm-deps

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

test: venv system-deps lint agent agent-qemu
	$(BIN)/python -m pytest -q

# The pure tests only (no processes, ptys or Textual pilot; tests/tiers.py decides): under a minute.
test-fast: venv
	$(BIN)/python -m pytest -q --fast

# The C reference agent (device_protocol/agent): portable C99 core + POSIX HAL + mbedTLS 2.28.
AGENT_DIR  := device_protocol/agent
AGENT_SRC  := $(addprefix $(AGENT_DIR)/,agent.c baud.c frame.c codec.c crypto_mbedtls.c hal_posix.c main_posix.c)
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

# The same agent on an emulated Cortex-M4 (QEMU mps2-an386): arm-none-eabi-gcc with newlib-nano,
# no OS, mbedTLS built from Debian's own source package (the host's 2.28) with our configuration.
# `make agent-qemu-run AGENT_STATE=DIR` runs it with its UART on a pty (QEMU prints the path) and
# its storage in DIR (a new DIR is a blank board). See device_protocol/agent/README.md.
ARM_PKGS    := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm dpkg-dev
QEMU_SRC    := $(addprefix $(AGENT_DIR)/qemu/,startup_mps2.c hal_mps2.c semihost.c key_ops.c main_mps2.c)
QEMU_HDR    := $(wildcard $(AGENT_DIR)/qemu/*.h) $(AGENT_HDR) $(AGENT_DIR)/qemu/mps2.ld
QEMU_OUT    := build/qemu
QEMU_ELF    := $(QEMU_OUT)/station-agent.elf
QEMU        := qemu-system-arm -M mps2-an386 -display none -monitor none -serial pty \
               -semihosting-config enable=on,target=native
# mbedTLS's source, the version of the host's libmbedtls-dev, through a private source list
# (the machine's apt configuration is left alone), cached under build/.
MBEDTLS_DIR  := build/mbedtls-source
MBEDTLS_TREE := $(MBEDTLS_DIR)/tree
MBEDTLS_LIB  := $(QEMU_OUT)/libmbedcrypto.a
APT_PRIVATE  := -o Dir::Etc::SourceList=$(CURDIR)/$(MBEDTLS_DIR)/sources.list \
                -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$(CURDIR)/$(MBEDTLS_DIR)/lists \
                -o Dir::Cache=$(CURDIR)/$(MBEDTLS_DIR)/cache -o Dir::State::Status=/dev/null \
                -o Debug::NoLocking=1 -o APT::Sandbox::User=root

ARM_CC      := arm-none-eabi-gcc
ARM_FLAGS   := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections \
               -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' -I$(AGENT_DIR)/qemu -I$(MBEDTLS_TREE)/include
ARM_CFLAGS  := -std=c99 -Wall -Wextra -Werror $(ARM_FLAGS)
ARM_LDFLAGS := -nostartfiles --specs=nano.specs -T $(AGENT_DIR)/qemu/mps2.ld -Wl,--gc-sections \
               -Wl,--wrap=crypto_keygen,--wrap=crypto_csr,--wrap=crypto_sign \
               -Wl,-Map=$(QEMU_OUT)/station-agent.map

arm-deps:
	@missing=""; for p in $(ARM_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

$(MBEDTLS_TREE)/.unpacked: | mbedtls arm-deps
	@mkdir -p $(MBEDTLS_DIR)/lists/partial $(MBEDTLS_DIR)/cache/archives/partial
	@. /etc/os-release; for suite in $$VERSION_CODENAME $$VERSION_CODENAME-updates; do \
	  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $$suite main"; \
	done > $(MBEDTLS_DIR)/sources.list; \
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security $$VERSION_CODENAME-security main" >> $(MBEDTLS_DIR)/sources.list
	apt-get -qq $(APT_PRIVATE) update
	cd $(MBEDTLS_DIR) && apt-get -qq $(APT_PRIVATE) source --download-only \
	  mbedtls=$$(dpkg-query -W -f='$${source:Version}' libmbedtls-dev)
	rm -rf $(MBEDTLS_TREE)
	@# apt checked the files against the signed Release's hashes; dpkg-source's own gpgv
	@# check of the uploader's signature needs debian-keyring, so it only warns
	dpkg-source -q -x $(MBEDTLS_DIR)/mbedtls_*.dsc $(MBEDTLS_TREE)
	@touch $@

$(QEMU_OUT)/mbedtls/%.o: $(MBEDTLS_TREE)/.unpacked $(AGENT_DIR)/qemu/mbedtls_config.h
	@mkdir -p $(dir $@)
	@$(ARM_CC) -std=c99 $(ARM_FLAGS) -c -o $@ $(MBEDTLS_TREE)/library/$*.c

MBEDTLS_OBJ := $(addprefix $(QEMU_OUT)/mbedtls/,aes.o asn1parse.o asn1write.o bignum.o ctr_drbg.o \
               ecdsa.o ecp.o ecp_curves.o entropy.o md.o memory_buffer_alloc.o oid.o pk.o pk_wrap.o \
               pkparse.o pkwrite.o platform.o platform_util.o rsa.o rsa_internal.o sha256.o \
               x509_create.o x509write_csr.o constant_time.o)

$(MBEDTLS_LIB): $(MBEDTLS_OBJ)
	@rm -f $@
	arm-none-eabi-ar rcs $@ $^

agent-qemu: $(QEMU_ELF)

$(QEMU_ELF): $(filter-out %/hal_posix.c %/main_posix.c,$(AGENT_SRC)) $(QEMU_SRC) $(QEMU_HDR) $(MBEDTLS_LIB)
	$(ARM_CC) $(ARM_CFLAGS) $(ARM_LDFLAGS) -o $@ \
	  $(filter %.c,$^) $(MBEDTLS_LIB)
	arm-none-eabi-size $@

agent-qemu-run: $(QEMU_ELF)
	@test -n "$(AGENT_STATE)" || { echo "usage: make agent-qemu-run AGENT_STATE=DIR (the board's storage)"; exit 2; }
	mkdir -p $(AGENT_STATE)
	cd $(AGENT_STATE) && exec $(QEMU) -kernel $(CURDIR)/$(QEMU_ELF)

clean:
	rm -rf build $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
