# Everything a fresh machine needs: `make run` (the app) and `make test` (the whole suite).
# Both create .venv themselves; nothing is fetched at run time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OFFLINE := HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DO_NOT_TRACK=1

.PHONY: run test lint bench screenshots clean package package-test wheelhouse

# llama.cpp is built from source once per machine and flag set, into a wheel folder keyed
# by both, because pip's own wheel cache ignores CMAKE_ARGS and would hand back a wheel
# built for another processor. On x86-64 the build is portable (AVX2/FMA/F16C, no AVX-512
# or AMX): a native build on an AMX-capable Xeon segfaulted in llama.cpp's AMX kernels on
# any prompt past a few tokens, and a native wheel can fault on a different processor.
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml | head -1)
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=ON
endif
LLAMA_KEY := $(shell printf '%s %s' '$(LLAMA_VERSION)' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
WHEELS := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/carrel/wheels/llama-$(LLAMA_KEY)

# With CARREL_WHEELHOUSE=DIR (made by `make wheelhouse`), everything comes from DIR and no
# package index is asked at all; llama.cpp's wheel from DIR's folder for this build's key.
ifdef CARREL_WHEELHOUSE
PIP_SOURCE := --no-index --find-links $(CARREL_WHEELHOUSE)
WHEELS := $(CARREL_WHEELHOUSE)/llama-$(LLAMA_KEY)
endif

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(PIP_SOURCE) --upgrade pip
	# The CPU build of torch from this machine's disk: a bare `torch` pulls a CUDA build.
	$(BIN)/pip install --quiet $(PIP_SOURCE) torch==2.13.0
	@if ! ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "building llama.cpp ($(LLAMA_VERSION), $(LLAMA_CMAKE_ARGS)): about 10 minutes"; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps --no-cache-dir \
			--no-binary llama-cpp-python -w $(WHEELS) llama-cpp-python==$(LLAMA_VERSION); \
	fi
	$(BIN)/pip install --quiet $(PIP_SOURCE) --find-links $(WHEELS) -e '.[dev]'
	touch $@

# Offline, as everywhere Carrel runs from this repository: the Models page's Hugging Face
# tab says it is switched off instead of trying. To browse the hub, start `.venv/bin/carrel`
# without HF_HUB_OFFLINE (each hub request is then an entry in the egress ledger).
run: $(STAMP)
	$(OFFLINE) $(BIN)/carrel

lint: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

PYTEST := $(OFFLINE) QT_QPA_PLATFORM=offscreen $(BIN)/pytest $(PYTEST_ARGS)

# Inside a private session bus with a fresh, unlocked gnome-keyring (in a throw-away folder,
# never the person's own) when they are installed, so the key tests run against a real
# Secret Service; they skip, saying why, without one.
test: lint
	@if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then \
		keyrings=$$(mktemp -d) && XDG_DATA_HOME=$$keyrings dbus-run-session -- sh -c \
			'printf carrel-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
			$(PYTEST)'; rc=$$?; rm -rf "$$keyrings"; exit $$rc; \
	else \
		$(PYTEST); \
	fi

bench: $(STAMP)
	$(OFFLINE) QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.bench

screenshots: $(STAMP)
	$(OFFLINE) $(BIN)/python -m tests.screenshots

# The Linux packages (tarball, .deb, SHA256SUMS) into $(PACKAGES), which git ignores; see
# packaging/build_linux.py. PACKAGE_ARGS=--without-model leaves the default model out.
# `make package-test` then installs and runs them (tests/packaging).
PACKAGES ?= dist/packages
$(VENV)/.package-stamp: $(STAMP)
	$(BIN)/pip install --quiet $(PIP_SOURCE) --find-links $(WHEELS) -e '.[dev,package]'
	touch $@

package: $(VENV)/.package-stamp
	$(OFFLINE) $(BIN)/python packaging/build_linux.py --out $(PACKAGES) $(PACKAGE_ARGS)

package-test: $(VENV)/.package-stamp
	CARREL_PACKAGES=$(abspath $(PACKAGES)) CARREL_WHEELHOUSE_DIR=$(abspath $(WHEELHOUSE)) \
		$(PYTEST) tests/packaging

# Every wheel `make run`, `make test` and `make package` install, for a machine with no
# package index: torch (CPU), the source-built wheels made into wheels here, and llama.cpp's
# wheels from the keyed cache in their own llama-<key> folders (one per build variant).
WHEELHOUSE ?= dist/wheelhouse
wheelhouse: $(STAMP)
	rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	$(BIN)/pip download --quiet --dest $(WHEELHOUSE) --find-links $(WHEELS) \
		pip setuptools wheel torch==2.13.0 '.[dev,package]'
	for sdist in $(WHEELHOUSE)/*.tar.gz; do [ -e "$$sdist" ] || continue; \
		$(BIN)/pip wheel --quiet --no-deps --wheel-dir $(WHEELHOUSE) "$$sdist" && rm "$$sdist"; done
	rm -f $(WHEELHOUSE)/llama_cpp_python-*.whl
	cp -r $(dir $(WHEELS))llama-* $(WHEELHOUSE)/
	@echo "$$(ls $(WHEELHOUSE) | wc -l) entries, $$(du -sh $(WHEELHOUSE) | cut -f1) in $(WHEELHOUSE)"

clean:
	rm -rf $(VENV)
