# Two commands do everything on a fresh machine:
#   make demo   - set up, then run the default scenario (table, figure, report in out/)
#   make test   - set up (with a browser for the end-to-end tests), then lint, type-check, test
#   make test-fast - the unit tests while you work: no browser tests (tests/viz/), no claims
# and a few for maintainers:
#   make constraints - regenerate constraints.txt from pyproject.toml's pins (then: make setup)
#   make wheel       - build the wheel into dist/ (scenarios and specs inside)
#   make bench       - every figure of the performance table against its target
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast browser lint constraints wheel bench

$(STAMP): pyproject.toml constraints.txt
	@python=$$(scripts/find-python) && "$$python" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,studies]"
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/outsidein compare --out out
	@echo "Next: 'source $(VENV)/bin/activate', then 'outsidein scenarios', 'outsidein run', 'outsidein app'."

browser:
	@scripts/install-browser

lint: setup
	$(VENV)/bin/ruff check simulation experiments tests benchmarks
	$(VENV)/bin/mypy simulation experiments

test: setup browser lint
	$(PY) -m pytest -q

# The app's and the workshop's tests (tests/viz/, the browser's among them) and the statistical
# claims (marked slow) are left to `make test`.
test-fast: setup
	$(PY) -m pytest -q -m "not slow and not browser" --ignore=tests/viz

constraints:
	scripts/update-constraints

wheel: setup
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

bench: setup
	$(PY) benchmarks/bench.py
