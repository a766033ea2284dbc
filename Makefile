# lstm-course: `make test` and `make lab` are all a newcomer needs (see README.md).
# Both create .venv on first use and install the pinned set from constraints.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOK_DIRS := lectures solutions exercises
NOTEBOOKS = $(shell find $(NOTEBOOK_DIRS) -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
# JupyterLab refuses to run as root unless told; containers and CI often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Unit tests run in 2 processes with 1 thread each: more threads than cores slows torch 10-100x.
ONE_THREAD := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

.PHONY: install test lint unit nbval lab bench exercises slides figures clean test-browser

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev]"
	# nbgrader is here for its preprocessors and its CLI; its JupyterLab menus and server
	# extensions would only confuse students, so they are switched off inside this venv.
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader
	$(BIN)/jupyter server extension disable --sys-prefix nbgrader.server_extensions.formgrader \
		nbgrader.server_extensions.assignment_list nbgrader.server_extensions.course_list \
		nbgrader.server_extensions.validate_assignment
	touch $@

# CI (CI=true, root) also runs the real-browser test; a newcomer's `make test` needs no root.
test: lint unit nbval $(if $(CI),test-browser)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# loadgroup: the figure tests of one lecture share a worker, which computes their data once.
unit: install
	$(ONE_THREAD) $(BIN)/pytest -n 2 --dist loadgroup tests --ignore=tests/browser

# Every notebook is executed, two at a time (loadfile: a notebook's cells stay in one worker),
# each with one thread: the course's models are small, so a second thread gains little, and
# more threads than cores cost 10-100x.
nbval: install
	@if [ -z "$(NOTEBOOKS)" ]; then \
		echo "nbval: no notebooks in $(NOTEBOOK_DIRS) yet"; \
	else \
		$(ONE_THREAD) $(BIN)/pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env \
			--nbval-sanitize-with .nbval-sanitize.cfg -p no:cacheprovider $(NOTEBOOKS); \
	fi

# Lecture 4 in a real JupyterLab in headless Chromium (Debian's; no browser download): run all
# cells, check outputs and sliders, move a slider, see the plot redrawn; screenshot in build/browser/.
test-browser: install
	scripts/install-browser-deps
	$(ONE_THREAD) $(BIN)/pytest -p no:cacheprovider tests/browser

lab: install
	$(BIN)/jupyter lab --notebook-dir=. $(ALLOW_ROOT) $(LAB_ARGS)

# Forward+backward timings of torch.nn, our modules and our NumPy code (a measurement, not a
# test): build/bench.md, build/bench.json and build/bench.png.
bench: install
	$(BIN)/python -m lstm_course.bench --markdown build/bench.md --json build/bench.json \
		--plot build/bench.png

# Every figure the lectures show, PNG and SVG, into figures/ (tests/test_figures.py compares).
figures: install
	$(ONE_THREAD) $(BIN)/lstm-course figures --jobs 2

# Student copies exercises/*.ipynb from the masters solutions/*.ipynb (nbgrader's preprocessors).
exercises: install
	$(BIN)/lstm-course exercises

# Reveal.js decks of the lectures in build/slides/ (open build/slides/index.html). Offline:
# reveal.js and MathJax are vendored in lstm_course/slides/vendor/; outputs are not re-run.
slides: install
	$(BIN)/lstm-course slides --out build/slides

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build
