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

.PHONY: synth test e2e promote bench setup clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.10 or newer is required") if sys.version_info < (3, 10) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package-lock.json
	node -e 'process.exit(+process.versions.node.split(".")[0] < 18 ? 1 : 0)' || { echo "Node 18 or newer is required"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.lock
	test -d $(CHECKOV_VENV) || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-checkov.lock
	touch $@

# cdk8s synth empties its output folder before the app runs, so synthesize next to dist/ and
# swap only on success: a failed synth leaves the previous dist/ untouched. On failure cdk8s-cli
# follows the app's two-line error with a Node stack trace of its own: only the app's lines are shown.
# The docs are generated from the new synthesis before anything is swapped, so a failure there also
# leaves dist/ and docs/ as they were; only the generated parts of docs/ are replaced.
synth: setup
	@rm -rf $(BUILD)/dist $(BUILD)/dist.old $(BUILD)/docs $(BUILD)/docs.old
	@mkdir -p $(BUILD) docs
	@# Cached bytecode saves ~0.1 s per synthesis, also where PYTHONDONTWRITEBYTECODE is set (see docs/benchmarks.md).
	@$(VENV)/bin/python -m compileall -q constructs imports
	@$(CDK8S) synth --no-check-upgrade --output $(BUILD)/dist > $(BUILD)/synth.log 2> $(BUILD)/synth.err \
		|| { grep -v -e '^Error: command ' -e '^    at ' $(BUILD)/synth.err >&2 || true; exit 1; }
	@cat $(BUILD)/synth.err >&2
	@$(VENV)/bin/python -m langflow_cdk8s.docs $(BUILD)/dist $(BUILD)/docs
	@if [ -d dist ]; then mv dist $(BUILD)/dist.old; fi
	@mv $(BUILD)/dist dist
	@if [ -d docs/environments ]; then mv docs/environments $(BUILD)/docs.old; fi
	@mv $(BUILD)/docs/environments docs/environments
	@mv $(BUILD)/docs/reference.md docs/reference.md
	@rm -rf $(BUILD)/dist.old $(BUILD)/docs.old $(BUILD)/docs
	@echo "updated dist/, docs/environments/ and docs/reference.md (file list: $(BUILD)/synth.log)"

test: setup $(CHECKOV_VENV)/.installed
	$(VENV)/bin/python -m pytest

e2e: setup
	@venv=$$(bash scripts/e2e-prepare.sh) && LANGFLOW_E2E=1 LANGFLOW_E2E_VENV=$$venv \
		$(VENV)/bin/python -m pytest tests/e2e -p no:cacheprovider $(E2E_ARGS)

# Pull flows from the dev IDE into flows/: make promote FLOW="Support Triage" (a name, id or endpoint
# name) or PROJECT="Support" (every flow of a project). The IDE's URL and an API key come from
# LANGFLOW_IDE_URL and LANGFLOW_IDE_API_KEY in your environment; they are never written anywhere.
promote: setup
	@$(VENV)/bin/python -m langflow_cdk8s.promote $(if $(FLOW),--flow "$(FLOW)") $(if $(PROJECT),--project "$(PROJECT)")

bench: setup
	$(VENV)/bin/python scripts/bench.py

clean:
	rm -rf $(BUILD) $(VENV) $(CHECKOV_VENV) node_modules
