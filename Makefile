# Everything installs into a local venv with the pinned constraints
# (constraints.txt pins torch==2.13.0, the CPU build; a bare torch pulls CUDA).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# TORCH_INDEX: an extra package index for torch, e.g. PyTorch's CPU wheel index
# (make venv TORCH_INDEX=https://download.pytorch.org/whl/cpu) where the default
# index would resolve torch==2.13.0 to the CUDA build
TORCH_INDEX ?=
PIP     = $(BIN)/pip install -q -c constraints.txt $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))

.PHONY: venv demo test lint format fixtures bottleneck claims bench clean

# what ruff checks and formats (CI runs `make test`, which runs `make lint` first)
LINTED = attnprobe tests benchmarks fixtures

DEMO_SENTENCE = the black cat does not see the small dog near the house

$(BIN)/attnprobe: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test,hf,ray]'
	touch $@

venv: $(BIN)/attnprobe

demo: venv  ## analyse the bundled En->Fr fixture model (report-enfr/report.html), translate one sentence
	$(BIN)/attnprobe analyze fixtures/models/enfr-bahdanau.pt -o report-enfr --force
	$(BIN)/attnprobe translate fixtures/models/enfr-bahdanau.pt "$(DEMO_SENTENCE)"

test: lint  ## run the whole test suite (what CI runs): lint, then pytest
	$(BIN)/pytest

lint: venv  ## ruff: lint rules and formatting (`make format` fixes most of it)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

format: venv  ## apply ruff's formatting and safe lint fixes
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

fixtures: venv  ## regenerate the toy data and retrain every fixture model (see fixtures/README.md)
	$(BIN)/python -m fixtures.build
	$(BIN)/python -m fixtures.marian

bottleneck: venv  ## train the bottleneck experiment's models (3 seeds x 2 architectures, fixtures/models/bottleneck/; --force retrains) and draw docs/bottleneck.png
	$(BIN)/python -m fixtures.bottleneck
	$(BIN)/attnprobe bottleneck fixtures/models/bottleneck/*.pt --plot docs/bottleneck.png --json docs/bottleneck.json --markdown

claims: venv  ## redraw the figures of docs/score-functions.md and docs/interpretability.md from the fixtures
	$(BIN)/attnprobe compare fixtures/models/enfr-*.pt --plot-aer docs/score-functions.png --markdown
	mkdir -p build
	$(BIN)/attnprobe analyze fixtures/models/enfr-bahdanau.pt --limit 100 --force -o build/interpretability \
	    --analyses alignment,attribution,faithfulness
	cp build/interpretability/figures/faithfulness.png docs/interpretability-faithfulness.png
	cp build/interpretability/figures/tau_distribution.png docs/interpretability-tau.png

bench: venv  ## speed and memory benchmarks (ratios against a baseline in the same run)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
