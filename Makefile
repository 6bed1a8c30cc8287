# The two commands: `make run` (set up everything, then serve web + worker) and
# `make test` (set up everything, then run the whole suite). Both work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BIND   ?= 127.0.0.1:8000

.PHONY: run setup test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py install_model

run: setup
	BIND=$(BIND) $(BIN)/honcho --procfile Procfile start

test: $(STAMP)
	$(BIN)/python manage.py install_model
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The layers (pyproject.toml, [tool.importlinter]): core and graphics.processing import no
# Django, assets never imports graphics, no import cycles inside an app.
lint: $(STAMP)
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/bg_remove.py
	$(BIN)/python bench/image_graphics.py

clean:
	rm -rf $(VENV) var
