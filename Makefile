# Everything a fresh machine needs: `make run` (the app) and `make test` (the whole suite).
# Both create .venv themselves; nothing is fetched at run time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OFFLINE := HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DO_NOT_TRACK=1

.PHONY: run test lint bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch from this machine's disk: a bare `torch` pulls a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

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

clean:
	rm -rf $(VENV)
