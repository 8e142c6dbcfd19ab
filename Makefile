# mendako: `make demo` sets up a fresh machine and runs the main job; `make test` runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_WHEEL := $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl)
# llama.cpp must not be tuned to this CPU: the wheel pip caches may run on another one.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: setup demo test test-all lint clean

$(BIN)/mendako: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the local CPU wheel where the machine has one.
	$(BIN)/pip install -q $(if $(TORCH_WHEEL),$(TORCH_WHEEL),torch==2.13.0)
	$(BIN)/pip install -q -e '.[dev,babyai,hf,openai,anthropic,ollama,ray]'
	touch $@

setup: $(BIN)/mendako

demo: setup
	$(BIN)/mendako run "make a wood pickaxe" --env crafter --seed 0
	$(BIN)/mendako trace show last

test: setup
	$(BIN)/python -m pytest -q

test-all: setup
	$(BIN)/python -m pytest -q -m ""

# Imports one way (.importlinter), ruff, mypy ([tool.mypy] in pyproject.toml).
lint: setup
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
