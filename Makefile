# doorgifte: every target installs what it needs into .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test check bench lint typecheck clean

install: $(STAMP)

# Re-install when the project metadata changes (a stale venv is rebuilt in place).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: install
	mkdir -p var
	$(BIN)/doorgifte serve --host 127.0.0.1 --port 8080

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff format --check engine service tests bench
	$(BIN)/ruff check engine service tests bench

typecheck: install
	$(BIN)/mypy engine service

check: lint typecheck test
	$(BIN)/doorgifte check

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
