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

.PHONY: synth test e2e images promote bench setup clean

setup: $(VENV)/.installed node_modules/.installed

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
# and leaves them as they were. The CLI's file list goes to .build/synth.log.
synth: setup
	@mkdir -p $(BUILD)
	@# Cached bytecode saves ~0.1 s per synthesis, also where PYTHONDONTWRITEBYTECODE is set (see docs/benchmarks.md);
	@# -o 1 for cdk8s.yaml's `python -O`, -o 0 for tests and `python main.py`.
	@$(VENV)/bin/python -m compileall -q -o 0 -o 1 constructs imports
	@$(CDK8S) synth --no-check-upgrade > $(BUILD)/synth.log

test: setup $(CHECKOV_VENV)/.installed
	$(VENV)/bin/python -m pytest

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

bench: setup
	$(VENV)/bin/python scripts/bench.py

clean:
	rm -rf $(BUILD) $(VENV) $(CHECKOV_VENV) node_modules
