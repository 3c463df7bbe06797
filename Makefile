# Two commands do all the set-up: `make demo` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_STORE := demo-store

.PHONY: install demo test bench screenshots mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	rm -rf $(DEMO_STORE)
	$(BIN)/overheard --store $(DEMO_STORE) ingest examples/news examples/intercepts examples/messages.jsonl examples/telegram --contributor "overheard examples"
	$(BIN)/overheard --store $(DEMO_STORE) analyze
	$(BIN)/overheard --store $(DEMO_STORE) translate --only-findings
	$(BIN)/overheard --store $(DEMO_STORE) ingest examples/audio/demo_radio.ogg --kind radio --lang ru \
		--captured-at 2022-03-05T14:00:00Z --frequency 148500000 --channel "VHF 148.500" \
		--receiver "demo generator" --contributor "overheard examples"
	$(BIN)/overheard --store $(DEMO_STORE) process
	$(BIN)/overheard --store $(DEMO_STORE) transcript demo_radio.ogg
	$(BIN)/overheard --store $(DEMO_STORE) info
	$(BIN)/overheard --store $(DEMO_STORE) search страх
	$(BIN)/overheard --store $(DEMO_STORE) search scared
	$(BIN)/overheard --store $(DEMO_STORE) search water
	$(BIN)/overheard --store $(DEMO_STORE) summary --by all --group kind
	$(BIN)/overheard --store $(DEMO_STORE) verify
	$(BIN)/overheard --store $(DEMO_STORE) export --format package --out $(DEMO_STORE)/evidence-package.zip
	$(BIN)/overheard verify --package $(DEMO_STORE)/evidence-package.zip
	$(BIN)/overheard --store $(DEMO_STORE) report --by day --out $(DEMO_STORE)/report.html

test: install
	$(BIN)/python -m pytest -q

screenshots: install
	OVERHEARD_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_web_e2e.py

# Mutation testing of the core (not part of `make test`): a fixed sample of 30 mutants per module,
# ~30-60 min on 2 cores (`tools/mutate.py --per-module 0` runs all ~6,000: many hours). Files and
# tests are set in pyproject.toml [tool.mutmut]; the kill rates go to docs/testing.md.
mutate: install
	$(BIN)/python -m pip install --quiet -e '.[dev,mutate]'
	$(BIN)/python tools/mutate.py

bench: install
	$(BIN)/python bench/bench_store.py

clean:
	rm -rf $(VENV) $(DEMO_STORE) .pytest_cache mutants
