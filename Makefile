# LiveOps — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run test check test-sqlite test-postgres install assets system-deps demo migrate serve lock messages clean

## make run: set up everything, create the demo workspace, serve on http://127.0.0.1:8000
##           while a replayed recording feeds the demo's live session in the background
run: install assets migrate demo
	@mkdir -p $${LIVEOPS_DATA_DIR:-var}/demo
	@$(BIN)/liveops replay --demo --url http://127.0.0.1:8000 --wait 120 \
	    > $${LIVEOPS_DATA_DIR:-var}/demo/replay.log 2>&1 & replay=$$!; \
	trap 'kill -TERM $$replay 2>/dev/null; wait $$replay 2>/dev/null' EXIT INT TERM; \
	$(BIN)/liveops serve --host 127.0.0.1 --port 8000

## make test: what CI runs — system packages, lint, types, migrations check, suite on SQLite and PostgreSQL
test: system-deps install assets check test-sqlite test-postgres

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml constraints.txt
	$(BIN)/pip install -q --disable-pip-version-check -U pip setuptools wheel
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,spark]'
	touch $@

install: $(VENV)/.installed

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/vendor/.copied: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/echarts/dist/echarts.min.js static/vendor/echarts.min.js
	cp node_modules/sortablejs/Sortable.min.js static/vendor/Sortable.min.js
	touch $@

assets: static/vendor/.copied

system-deps:
	bash scripts/system-deps.sh

migrate: install
	$(PY) manage.py migrate --noinput

demo: install
	$(BIN)/liveops demo

serve: install assets
	$(BIN)/liveops serve --host 127.0.0.1 --port 8000

check: install assets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py check
	$(PY) scripts/check_translations.py

test-sqlite: install assets
	DATABASE_URL= $(BIN)/pytest

test-postgres: install assets
	bash scripts/with-postgres.sh $(BIN)/pytest

## Re-pin Python dependencies after editing pyproject.toml.
lock:
	rm -rf /tmp/liveops-lock && $(PYTHON) -m venv /tmp/liveops-lock
	/tmp/liveops-lock/bin/pip install -q -U pip && /tmp/liveops-lock/bin/pip install -q -e '.[dev,spark]'
	{ echo '# Pinned versions for reproducible installs; refresh with `make lock`.'; \
	  /tmp/liveops-lock/bin/pip freeze --exclude-editable | grep -v '^liveops'; } > constraints.txt

## Refresh the translation catalogue after adding UI strings, then translate and compile.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-location --no-obsolete -i '.venv/*' -i 'node_modules/*' -i 'var/*' -i 'static/*'
	$(PY) scripts/check_translations.py --compile

clean:
	rm -rf $(VENV) node_modules static/vendor var/staticfiles
