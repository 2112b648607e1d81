# Everything a fresh machine needs: `make run` (the app) and `make test` (the whole suite).
# Both create .venv themselves; nothing is fetched at run time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OFFLINE := HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DO_NOT_TRACK=1

.PHONY: run test lint bench screenshots clean cpu-side FORCE package package-test wheelhouse \
	llama-perplexity

# llama.cpp is built from source once per machine, backend and flag set, into a wheel folder
# keyed by all three (pip's own wheel cache ignores CMAKE_ARGS and would hand back a wheel
# built for another processor or backend). packaging/llama_build.py (standard library only:
# it runs before the venv has anything in it) picks the backend — Metal on Apple silicon,
# CUDA, Vulkan, else the portable CPU build; CARREL_GPU=cpu|vulkan|cuda|metal overrides —,
# prints one line saying which and why, builds it if it is not cached (a GPU build that
# fails falls back to the CPU build, naming what was missing) and swaps it into the venv
# when the choice changed. On x86-64 every build is portable (AVX2/FMA/F16C, no AVX-512 or
# AMX): a native build on an AMX-capable Xeon segfaulted in llama.cpp's AMX kernels.
LLAMA_BUILD := $(PYTHON) packaging/llama_build.py
BASE := $(VENV)/.base-stamp
LLAMA_STAMP := $(VENV)/.llama-stamp

# With CARREL_WHEELHOUSE=DIR (made by `make wheelhouse`), every pip here and in
# packaging/llama_build.py installs from DIR with no package index at all (pip reads these
# variables), and llama_build.py takes llama.cpp's wheels from DIR/llama instead of the cache.
ifdef CARREL_WHEELHOUSE
export PIP_NO_INDEX := 1
export PIP_FIND_LINKS := $(abspath $(CARREL_WHEELHOUSE))
endif

$(BASE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch from this machine's disk: a bare `torch` pulls a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	touch $@

# Runs on every make; touches its stamp only when it installed a different build.
$(LLAMA_STAMP): $(BASE) FORCE
	@$(LLAMA_BUILD) install --venv $(VENV) --stamp $@

$(STAMP): $(BASE) $(LLAMA_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The CPU build beside the chosen one (.venv/llama-cpu), for the tests and the benchmark
# that compare a GPU build with it; nothing to build when the chosen build is the CPU's.
cpu-side: $(STAMP)
	@$(LLAMA_BUILD) cpu-side --venv $(VENV)

FORCE:

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
test: lint cpu-side
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
	$(OFFLINE) $(BIN)/python -m tests.screenshots_chat

# The Linux packages (tarball, .deb, SHA256SUMS) into $(PACKAGES), which git ignores; see
# packaging/build_linux.py. PACKAGE_ARGS=--without-model leaves the default model out.
# `make package-test` then installs and runs them (tests/packaging).
PACKAGES ?= dist/packages
$(VENV)/.package-stamp: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,package]'
	touch $@

package: $(VENV)/.package-stamp
	$(OFFLINE) $(BIN)/python packaging/build_linux.py --out $(PACKAGES) $(PACKAGE_ARGS)

package-test: $(VENV)/.package-stamp
	CARREL_PACKAGES=$(abspath $(PACKAGES)) CARREL_WHEELHOUSE_DIR=$(abspath $(WHEELHOUSE)) \
		$(PYTEST) tests/packaging

# Every wheel `make run`, `make test` and `make package` install, for a machine with no
# package index: torch (CPU), the source-built wheels made into wheels here, and llama.cpp's
# wheels from the keyed cache in DIR/llama/<key>/ (each build this machine made of the
# pinned version, the chosen one and the CPU one beside it; a GPU build's FAILED note too).
WHEELHOUSE ?= dist/wheelhouse
# llama.cpp's own perplexity tool, built once per llama-cpp-python version into the keyed
# cache, for issue 19's check that Carrel's perplexity is llama.cpp's (a few minutes).
llama-perplexity: $(STAMP)
	$(BIN)/python packaging/llama_tools.py perplexity

wheelhouse: cpu-side
	rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	$(BIN)/pip download --quiet --dest $(WHEELHOUSE) \
		--find-links "$$(dirname "$$(cut -d' ' -f1 $(VENV)/.llama-wheel)")" \
		pip setuptools wheel torch==2.13.0 '.[dev,package]'
	for sdist in $(WHEELHOUSE)/*.tar.gz; do [ -e "$$sdist" ] || continue; \
		$(BIN)/pip wheel --quiet --no-deps --wheel-dir $(WHEELHOUSE) "$$sdist" && rm "$$sdist"; done
	rm -f $(WHEELHOUSE)/llama_cpp_python-*.whl
	$(LLAMA_BUILD) wheelhouse --dest $(WHEELHOUSE)/llama
	@echo "$$(ls $(WHEELHOUSE) | wc -l) entries, $$(du -sh $(WHEELHOUSE) | cut -f1) in $(WHEELHOUSE)"

clean:
	rm -rf $(VENV)
