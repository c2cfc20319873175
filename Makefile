# spicenn: two commands do everything.
#   make demo   set up (ngspice with KLU, a headless browser, .venv, torch CPU, the package) and run the demo
#   make test   set up, lint (ruff, mypy) and run the test suite (what CI runs)
#   make test-fast   the edit loop: ruff and the suite without the tests marked slow
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.spicenn-installed
TORCH  := torch==2.13.0

.PHONY: setup demo test test-fast lint bench clean netlists

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup_ngspice.sh scripts/setup_browser.sh
	bash scripts/setup_ngspice.sh
	# a real browser for the test of the HTML report
	bash scripts/setup_browser.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build on this machine's disk, not a multi-GB CUDA one
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/spicenn doctor
	$(PY) scripts/demo.py

# lint first: a red lint is a red CI; then the suite with the docstrings' examples
test: lint
	$(PY) -m pytest -q -n 2 --doctest-modules spicenn tests
	# the wheel, installed outside the checkout: shipped models found, commands run
	bash scripts/wheel_smoke.sh

test-fast: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2 -m "not slow" --doctest-modules spicenn tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) scripts/bench_spice.py
	$(PY) scripts/bench_energy.py
	$(PY) scripts/bench_dataset.py
	$(PY) scripts/bench_surrogate.py
	$(PY) scripts/bench_first_order.py
	$(PY) scripts/bench_training.py
	$(PY) scripts/bench_threads.py
	$(PY) scripts/bench_write.py
	$(PY) scripts/bench_fit.py

netlists: setup
	$(PY) scripts/make_netlists.py

clean:
	rm -rf $(VENV) build *.egg-info
