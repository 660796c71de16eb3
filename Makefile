# Two commands do all set-up on a fresh machine with python3 and make:
#   make demo   – create .venv, install, run the main job end to end
#   make test   – create .venv, install with test extras, run the tests
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint templates catalogue bench bundle clean

$(BIN)/xltool: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/xltool

demo: $(BIN)/xltool
	$(BIN)/xltool demo --out demo-output --force

test: $(BIN)/xltool
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest xltool tests

lint: $(BIN)/xltool
	$(BIN)/ruff check .

templates: $(BIN)/xltool
	$(BIN)/python -m xltool.pipeline.template_refresh

catalogue: $(BIN)/xltool
	$(BIN)/python docs/make_catalogue.py

bench: $(BIN)/xltool
	$(BIN)/python bench/bench_check.py

# Offline install for Windows: dist/xltool-<version>-windows-offline.zip (xltool's wheel, win_amd64
# wheels of every dependency for Python 3.10-3.13, 安装.bat). Needs the package index; downloads are
# kept in build/bundle-cache.
bundle: $(BIN)/xltool
	$(BIN)/python packaging/bundle.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache build dist
