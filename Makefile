# The two commands a new user needs (see README): `make run` and `make test`. Both create .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# DuckDB 1.4 beside the hub's own DuckDB: tests prove analysts' older clients open hub.duckdb and the workspaces
VENV14 := .venv-duckdb14
STAMP14 := $(VENV14)/.installed
# Spark in its own virtualenv, as beside a real hub: it reads the hub's files, not govhub's code (and Great
# Expectations imports pyspark whenever it can, which would slow every Dagster process)
VENVSPARK := .venv-spark
STAMPSPARK := $(VENVSPARK)/.installed

.PHONY: run test test-scale soak fuzz setup browser duckdb14 spark lint format bench bench-against bench-scale clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "installing govhub and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 || true
	@$(BIN)/python -m pip install --disable-pip-version-check -e ".[dev]" >> $(VENV)/install.log 2>&1 || \
	  { tail -n 30 $(VENV)/install.log; echo "installation failed: see $(VENV)/install.log"; exit 1; }
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

$(STAMPSPARK):
	@test -x $(VENVSPARK)/bin/python || $(PY) -m venv $(VENVSPARK)
	@$(VENVSPARK)/bin/python -m pip install --quiet --disable-pip-version-check "pyspark>=4.0,<5" > $(VENVSPARK)/install.log 2>&1 || \
	  { tail -n 20 $(VENVSPARK)/install.log; echo "installing pyspark failed"; exit 1; }
	@$(VENVSPARK)/bin/python -c "import pyspark" || (echo "installing pyspark failed" && exit 1)
	@touch $(STAMPSPARK)

spark: $(STAMPSPARK)

# The suite runs in TEST_WORKERS processes (pytest-xdist; each test file stays on one worker, so a file's module
# fixtures are built once): ≈5 minutes here with 2 (2 cores), ≈14 with TEST_WORKERS=0 (no worker: pytest alone). Past TEST_LIMIT it is interrupted as by
# Ctrl-C, so pytest prints where it was and the summary instead of a CI run ending silently at its own limit
TEST_WORKERS ?= 2
TEST_LIMIT ?= 45m
SCALE_LIMIT ?= 20m
test: $(STAMP) browser duckdb14 spark
	$(BIN)/ruff format --check . && $(BIN)/ruff check .
	timeout --signal=INT --kill-after=120 $(TEST_LIMIT) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Longer runs than `make test` affords: hundreds of SIGKILLed loads (random moments and every step), then the kill,
# disk-full, store-cut and concurrency tests again (SOAK_KILLS, default 200); the biggest hostile uploads; an hour of
# fuzzing (FUZZ_SECONDS).
SOAK_KILLS ?= 200
soak: $(STAMP)
	GOVHUB_SOAK_KILLS=$(SOAK_KILLS) $(BIN)/python -m pytest -s \
	  tests/warehouse/test_load_killed.py tests/warehouse/test_disk_full.py tests/warehouse/test_store_cut.py \
	  tests/warehouse/test_concurrency.py tests/services/test_delivery_faults.py --timeout 7200
	$(BIN)/python -m pytest tests/hostile -m slow
	FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} $(BIN)/python -m fuzz.run

# The scale-out subset (tests marked `scale`) with the workflow store on PostgreSQL, snapshots and locks on S3 (moto's
# server, started by the tests on 127.0.0.1) and Dagster's instance on PostgreSQL with two Celery workers (RabbitMQ)
test-scale: $(STAMP)
	GOVHUB_TEST_SCALE=1 timeout --signal=INT --kill-after=120 $(SCALE_LIMIT) $(BIN)/python -m pytest -m scale \
	  -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# W8 of this tree against an earlier commit (default 632c9cd, before the service layer), chunk by chunk alternately
# in one run (benchmarks/against.py: a few percent is below the noise between two separate runs here)
bench-against: $(STAMP)
	$(BIN)/python -m benchmarks.against $(if $(REV),--rev $(REV)) $(if $(COUNT),--count)

# 1×/10×/100× the W1 resource (up to 100M rows: ≈11 min on 2 cores) and 10×/100× the feeds of one tick,
# appended to benchmarks/results/<time>-scale-<configuration>.jsonl as each case ends (docs/PERFORMANCE.md);
# `make bench-scale SCALE_ARGS=--servers`: the same on the local PostgreSQL and an S3 server (moto) started here
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.scale $(SCALE_ARGS)

clean:
	rm -rf $(VENV) $(VENV14) $(VENVSPARK) data

# Coverage-guided fuzzing (atheris) of the sheet readers, the encoding detector, header matching, the catalog loader
# and the row filters: FUZZ_SECONDS in all (default 300); crashes land in fuzz/.crashes/ (docs/SECURITY.md "Fuzzing")
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m fuzz.run
