# Two commands do everything: `make synth` and `make test`. Each sets up what is missing first.
# `make e2e` then runs the pods of dist/ with real Langflow 1.13.0 (root; see README).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
BUILD := .build
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
CDK8S := node_modules/.bin/cdk8s

.PHONY: synth test lint e2e images promote bench setup clean help diff

help:
	@printf '%s\n' \
		"make synth    synthesize main.py and flows/ into dist/ and docs/ (set-up first when missing)" \
		"make test     make lint, then every test and validation gate over the library and your dist/" \
		"make lint     ruff and mypy over the library and main.py (seconds)" \
		"make e2e      run the pods of dist/ with real Langflow and PostgreSQL (root; E2E_ARGS=\"-k name\")" \
		"make diff     what a change does when Argo CD syncs, against BASE (default origin/main; FORMAT=markdown)" \
		"make images   a Dockerfile and a hash-locked requirements file per lfx unit of dist/, under images/ (root)" \
		"make promote  pull a flow from the dev IDE into flows/ (FLOW=\"name\" or PROJECT=\"name\")" \
		"make bench    measure synthesis against the cost of importing cdk8s (docs/benchmarks.md)" \
		"make setup    create .venv and node_modules from the lock files, or repair them in a copied checkout" \
		"make clean    remove .build/, .venv/, .venv-checkov/ and node_modules/" \
		"make help     this list"

# A checkout copied or moved with its .venv: the editable install still points at the old folder,
# so the library would be imported from there. Finding it (no import) is cheap; reinstall if so.
setup: $(VENV)/.installed node_modules/.installed
	@$(VENV)/bin/python -c 'import importlib.util as u, pathlib as p, sys; s = u.find_spec("langflow_cdk8s"); \
		sys.exit(s is None or p.Path(s.origin).resolve().parent.parent != p.Path("constructs").resolve())' \
		|| $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.10 or newer is required") if sys.version_info < (3, 10) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# cdk8s.yaml runs the app with -O: its bytecode, also where PYTHONDONTWRITEBYTECODE is set (~10 s once).
	$(VENV)/bin/python -m compileall -q -j 0 -o 1 $(VENV)/lib > /dev/null
	touch $@

node_modules/.installed: package-lock.json
	node -e 'process.exit(+process.versions.node.split(".")[0] < 20 ? 1 : 0)' || { echo "Node 20 or newer is required (22 or 24 recommended)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.lock
	test -d $(CHECKOV_VENV) || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-checkov.lock
	touch $@

# `make synth` is `cdk8s synth` with the locked CLI: cdk8s.yaml's app synthesizes into .build/,
# writes the docs from that, and replaces dist/, docs/environments/ and docs/reference.md only when
# all of it succeeded (constructs/langflow_cdk8s/tooling/publish.py). A failure prints two lines, exits 2
# and leaves them as they were. The CLI's file list goes to .build/synth.log, as paths in dist/.
synth: setup
	@mkdir -p $(BUILD)
	@# Cached bytecode saves ~0.1 s per synthesis, also where PYTHONDONTWRITEBYTECODE is set (see docs/benchmarks.md);
	@# -o 1 for cdk8s.yaml's `python -O`, -o 0 for tests and `python main.py`.
	@$(VENV)/bin/python -m compileall -q -o 0 -o 1 constructs imports
	@$(CDK8S) synth --no-check-upgrade | sed 's|^  - $(BUILD)/cdk8s.out/|  - dist/|' > $(BUILD)/synth.log

test: setup $(CHECKOV_VENV)/.installed
	@ls dist/*/*.k8s.yaml > /dev/null 2>&1 || { printf '%s\n' "error: dist/: is missing or empty, so the gates have nothing to check" \
		"  fix: run make synth (and commit dist/ and docs/), then make test" >&2; exit 2; }
	$(LINT)
	$(VENV)/bin/python -m pytest

# ruff (style, imports, likely bugs) and mypy --strict over the library and main.py: a few seconds.
LINT = $(VENV)/bin/ruff check --quiet . && $(VENV)/bin/mypy
lint: setup
	$(LINT)

e2e: setup
	@venv=$$(bash scripts/e2e-prepare.sh) && LANGFLOW_E2E=1 LANGFLOW_E2E_VENV=$$venv \
		$(VENV)/bin/python -m pytest tests/e2e -p no:cacheprovider $(E2E_ARGS)

# Per lfx unit of dist/: images/<env>/<unit>/Dockerfile and a hash-locked requirements.txt with lfx and only
# what its flows need (`lfx requirements` in make e2e's Langflow venv, locked by uv; root, like make e2e).
images: setup
	@venv=$$(bash scripts/e2e-prepare.sh) && $(VENV)/bin/python -m langflow_cdk8s.tooling.images \
		--venv $$venv --uv $$(dirname $$venv)/tools/bin/uv

# Pull flows from the dev IDE into flows/: make promote FLOW="Support Triage" (a name, id or endpoint
# name) or PROJECT="Support" (every flow of a project). The IDE's URL and an API key come from
# LANGFLOW_IDE_URL and LANGFLOW_IDE_API_KEY in your environment; they are never written anywhere.
promote: setup
	@$(VENV)/bin/python -m langflow_cdk8s.tooling.promote $(if $(FLOW),--flow "$(FLOW)") $(if $(PROJECT),--project "$(PROJECT)")

# What this change does in the cluster, for review: synthesizes BASE (a temporary worktree with its own
# lock files) and the working tree, each once and never into dist/ (tooling/diff.py). Exit 2: a bad BASE.
BASE ?= origin/main
FORMAT ?= text
diff: setup
	@$(VENV)/bin/python -m langflow_cdk8s.tooling.diff --base "$(BASE)" --format "$(FORMAT)"

bench: setup
	$(VENV)/bin/python scripts/bench.py

clean:
	rm -rf $(BUILD) $(VENV) $(CHECKOV_VENV) node_modules
