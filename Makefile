# stm32gen — developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STM32GEN := $(VENV)/bin/stm32gen
APT_PACKAGES := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm cmake ninja-build gcc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MODEL ?=
DEMO_DIR ?= build/demo
DEMO_TARGET ?= qemu-mps2-an500
DEMO_MODEL := $(if $(MODEL),$(MODEL),$(DEMO_DIR)/model.tflite)
# ST's photos when ../shared is beside the checkout, else seeded random inputs.
DEMO_INPUTS := $(if $(wildcard ../shared/images/*.jpg),--images ../shared/images,--random 8)
PYTEST_WORKERS ?= 2

.PHONY: setup apt venv test lint fuzz demo bench-host bench-plan bench-pp clean

setup: apt venv

# Installs the cross compiler and QEMU only when one is missing (idempotent).
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

test: setup
	STM32GEN_REQUIRE_TOOLS=1 $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal -q

lint: venv
	$(VENV)/bin/ruff check generator tests benchmarks

# A longer run of the model-mutation fuzzer than the one in `make test`.
fuzz: venv
	STM32GEN_FUZZ_CASES=50000 $(PY) -m pytest -q tests/test_fuzz_reader.py

# The main job end to end: model → inspect → plan → generate → build → boot in QEMU → validate.
demo: setup
	@rm -rf $(DEMO_DIR)/project && mkdir -p $(DEMO_DIR)
	$(if $(MODEL),,$(STM32GEN) example-model $(DEMO_MODEL))
	$(STM32GEN) inspect $(DEMO_MODEL)
	$(STM32GEN) plan $(DEMO_MODEL) --target $(DEMO_TARGET) --html $(DEMO_DIR)/plan.html
	$(STM32GEN) generate $(DEMO_MODEL) --target $(DEMO_TARGET) --out $(DEMO_DIR)/project
	$(STM32GEN) build $(DEMO_DIR)/project
	$(STM32GEN) validate $(DEMO_DIR)/project --emulate $(DEMO_INPUTS) \
	  --json $(DEMO_DIR)/report.json --html $(DEMO_DIR)/report.html

bench-host: setup
	$(PY) benchmarks/host_bench.py

bench-plan: venv
	$(PY) benchmarks/plan_bench.py

bench-pp: setup
	$(PY) benchmarks/pp_bench.py

# QEMU instructions per inference (M7, M55) vs ST's published time; ARGS=--ops adds a per-op breakdown.
.PHONY: bench-mcu
bench-mcu: setup
	$(PY) benchmarks/mcu_bench.py $(ARGS)

clean:
	rm -rf build .pytest_cache
