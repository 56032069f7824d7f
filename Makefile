# The two commands a new user needs (see README): `make run` and `make test`. Both create .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# DuckDB 1.4 beside the hub's own DuckDB: tests prove analysts' older clients open hub.duckdb and the workspaces
VENV14 := .venv-duckdb14
STAMP14 := $(VENV14)/.installed

.PHONY: run test setup browser duckdb14 lint format bench clean fuzz soak

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -c "import govhub, dagster, great_expectations" || (echo "installation failed" && exit 1)
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/govhub demo

# Browser tests drive Debian's Chromium with Playwright, with a CJK font so screenshots show Chinese (not empty
# boxes); installed here when missing (as root, or through sudo).
browser:
	@{ command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } && \
	  { fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; } || { \
	  echo "installing Debian's chromium and a CJK font for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq >/dev/null && $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; } || \
	  { echo "could not install chromium: install Debian's chromium and fonts-wqy-microhei, then run make test again"; exit 1; }; }

$(STAMP14):
	@test -x $(VENV14)/bin/python || $(PY) -m venv $(VENV14)
	@$(VENV14)/bin/python -m pip install --quiet --disable-pip-version-check "duckdb>=1.4,<1.5" 2>&1 | grep -v "is ignored" || true
	@$(VENV14)/bin/python -c "import duckdb; assert duckdb.__version__.startswith('1.4')" || (echo "installing duckdb 1.4 failed" && exit 1)
	@touch $(STAMP14)

duckdb14: $(STAMP14)

test: $(STAMP) browser duckdb14
	$(BIN)/ruff format --check . && $(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(VENV14) data

# Coverage-guided fuzzing (atheris) of the sheet readers, the encoding detector, header matching, the catalog loader
# and the row filters: FUZZ_SECONDS in all (default 300); crashes land in fuzz/.crashes/ (docs/SECURITY.md "Fuzzing")
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m fuzz.run

# Longer runs than make test affords: the hostile corpus's biggest cases and an hour of fuzzing
soak: $(STAMP)
	$(BIN)/python -m pytest tests/hostile -m slow
	FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} $(BIN)/python -m fuzz.run
