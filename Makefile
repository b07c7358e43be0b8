PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/flexhub demo

test: lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/optimize.py

# A new Alembic revision with what the models have and the migrations lack, e.g.
# make migration NAME="add dispatch index"
migration: $(STAMP)
	@test -n "$(NAME)" || { echo 'usage: make migration NAME="short description"' >&2; exit 2; }
	$(BIN)/python scripts/new_migration.py "$(NAME)"

clean:
	rm -rf $(VENV) flexhub.db .flexhub
