# Everything installs into a local venv with the pinned constraints
# (constraints.txt pins torch==2.13.0, the CPU build; a bare torch pulls CUDA).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/pip install -q -c constraints.txt

.PHONY: venv demo test lint fixtures bench clean

DEMO_SENTENCE = the black cat does not see the small dog near the house

$(BIN)/attnprobe: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test,hf]'
	touch $@

venv: $(BIN)/attnprobe

demo: venv  ## analyse the bundled En->Fr fixture model (report-enfr/report.html), translate one sentence
	$(BIN)/attnprobe analyze fixtures/models/enfr-bahdanau.pt -o report-enfr --force
	$(BIN)/attnprobe translate fixtures/models/enfr-bahdanau.pt "$(DEMO_SENTENCE)"

test: venv  ## run the whole test suite (what CI runs)
	$(BIN)/ruff check attnprobe tests benchmarks fixtures
	$(BIN)/ruff format --check attnprobe tests benchmarks fixtures
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check attnprobe tests benchmarks fixtures
	$(BIN)/ruff format --check attnprobe tests benchmarks fixtures

fixtures: venv  ## regenerate the toy data and retrain every fixture model (see fixtures/README.md)
	$(BIN)/python -m fixtures.build

bench: venv  ## speed and memory benchmarks (ratios against a baseline in the same run)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
