PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: demo test install lint bench bench-quick migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# the demo needs only the package (no test tools): a clean clone installs less before it runs
$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

install: $(STAMP)

demo: $(RUN_STAMP)
	$(BIN)/flexhub demo

test: lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports --no-cache

# every bench/<name>.py with figures(quick): one table, JSON in bench/results/ (bench/run.py)
bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-quick: $(STAMP)
	$(BIN)/python bench/run.py --quick

# A new Alembic revision with what the models have and the migrations lack, e.g.
# make migration NAME="add dispatch index"
migration: $(STAMP)
	@test -n "$(NAME)" || { echo 'usage: make migration NAME="short description"' >&2; exit 2; }
	$(BIN)/python scripts/new_migration.py "$(NAME)"

clean:
	rm -rf $(VENV) flexhub.db .flexhub
