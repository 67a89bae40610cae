# 建造师助手 — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY      := .venv/bin/python
# Rasa's own CLI, run as a module so that the project's NLU component (rasa_runtime/) is importable.
RASA    := .venv-rasa/bin/python -m rasa_runtime
DOMAIN  := domain.yml
# Generated NLU (FAQ variants -> intent examples; registration words -> synonyms and lookups) lives
# under var/, rebuilt by `make train`.
GEN_NLU := var/generated/nlu
RASA_DATA := data $(GEN_NLU)
RASA_ENV := RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
TRAIN_INPUTS := $(shell find data/nlu data/rules data/stories data/faq data/dictionary/jieba -type f 2>/dev/null) $(DOMAIN) config.yml knowledge/augment.py rasa_runtime/request_guard.py rasa_runtime/request_rules.py \
  bot/registration/rules.yml bot/registration/nlu_words.py
KNOWLEDGE_INPUTS := $(shell find knowledge data/faq data/train data/dictionary -type f \( -name '*.py' -o -name '*.yml' -o -name '*.txt' \) 2>/dev/null) data/eval/calibration.yml data/eval/sections.yml

.PHONY: help setup browser services compose-cli train run test lint test-unit test-rasa test-e2e eval eval-nlu bench bench-long bench-knowledge purge lock clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: .venv/.ready .venv-rasa/.ready ## install both runtimes (idempotent; seconds when nothing changed)

.venv/.ready: requirements/service.lock requirements/service-test.lock scripts/setup_venv.sh
	@bash scripts/setup_venv.sh service
	@touch $@

.venv-rasa/.ready: requirements/rasa.lock requirements/rasa-test.lock scripts/setup_venv.sh
	@bash scripts/setup_venv.sh rasa
	@touch $@

browser: ## install Debian's Chromium for the browser tests (needs root or sudo; skipped when present)
	@command -v chromium >/dev/null 2>&1 || bash scripts/apt_install.sh chromium

services: ## install PostgreSQL and Redis from Debian's packages for the scale-out tests (skipped when present)
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; } || \
	  bash scripts/apt_install.sh postgresql redis-server

compose-cli: ## install Debian's docker-compose to validate deploy/compose.yml (skipped when `docker compose` or it is present)
	@{ docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; } || \
	  bash scripts/apt_install.sh --no-recommends docker-compose

train: setup var/index/.built models/.trained ## build the knowledge indexes and the Rasa model when their inputs changed

var/index/.built: $(KNOWLEDGE_INPUTS)
	@echo "[train] building the knowledge indexes ..."
	@$(PY) -m knowledge.build --out var/index
	@touch $@

# The Rasa model depends on the Rasa data and the FAQ questions (exported as NLU), not on the index.
models/.trained: $(TRAIN_INPUTS) knowledge/export_nlu.py
	@echo "[train] generating NLU examples from the FAQ ..."
	@$(PY) -m knowledge.export_nlu --out $(GEN_NLU)
	@$(PY) -m bot.registration.nlu_words --out $(GEN_NLU)
	@echo "[train] training the Rasa model (10-20 minutes on 2 cores; only when its data changed) ..."
	@$(PY) -m scripts.train_rasa -- --domain $(DOMAIN) --data $(RASA_DATA) --config config.yml --out models --fixed-model-name assistant
	@touch $@

run: train ## set up, train, then run Rasa + action server + bot/ in the foreground (Ctrl-C stops)
	@$(PY) -m scripts.stack

.PHONY: admin
admin: setup ## create the first staff-console admin and print its one-time password (more: make admin ARGS="create NAME --role sales --display-name 王芳")
	@$(PY) -m bot.admin $(ARGS)

# The two venvs and the Debian packages install side by side (downloads and unpacking, not CPU).
# The unit tests need the knowledge index but not the Rasa model: they run while Rasa trains (the
# two cores are shared; each target's output is printed whole when it ends).
test: ## set up, train and run every test suite
	@$(MAKE) --no-print-directory -j4 --output-sync=target .venv/.ready .venv-rasa/.ready browser services compose-cli
	@$(MAKE) --no-print-directory var/index/.built
	@$(MAKE) --no-print-directory -j2 --output-sync=target models/.trained test-unit
	@$(MAKE) --no-print-directory test-rasa test-e2e

lint: setup ## ruff: lint and formatting (settings in pyproject.toml; `.venv/bin/ruff format .` fixes the format)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .

test-unit: setup compose-cli lint ## lint, then unit tests (no running services needed; the deployment files checked statically)
	@$(PY) -m pytest -q tests/bot tests/knowledge tests/scripts tests/badinput
	@$(RASA_ENV) .venv-rasa/bin/python -m pytest -q -p no:cacheprovider tests/actions tests/rasa_runtime

test-rasa: train ## validate the Rasa data and run the conversation tests
	@$(RASA_ENV) $(RASA) data validate --domain $(DOMAIN) --data $(RASA_DATA) --config config.yml --fail-on-warnings
	@$(RASA_ENV) $(RASA) test core --model models/assistant.tar.gz --stories tests/stories --fail-on-prediction-errors --out var/reports/rasa-core

test-e2e: train browser services ## end-to-end tests against the real processes on free ports, browser tests in headless Chromium
	@$(PY) -m pytest -q tests/e2e

eval: train ## what users get, end to end through /api/chat, on the test half, the calibration half and dev; report under var/reports/
	@$(PY) -m scripts.evaluate --index var/index --out var/reports --e2e

eval-unanswered: train ## grouping of unanswered questions by meaning: purity and completeness on data/eval/unanswered_groups.yml, 20,000-row benchmark; var/reports/unanswered_groups.json
	@$(PY) -m scripts.eval_unanswered --index var/index --out var/reports

bench-knowledge: train ## in-process search latency and the 100,000-passage scale benchmark
	@$(PY) -m scripts.bench_knowledge --index var/index --dev data/eval/dev.yml --out var/reports

bench: train ## load benchmark through /api/chat (loopback, bounded; 3 runs, targets on the median), report under var/reports/; PROFILE=1 splits each process's CPU per message with py-spy
	@$(PY) -m scripts.bench $(if $(PROFILE),--profile)

bench-long: train ## long conversations: median latency of turns 1-10 ... 31-40 of 40-turn conversations (target: last/first <= 1.5); var/reports/bench_long.json
	@$(PY) -m scripts.bench_long

purge: setup ## delete or anonymise personal data older than RETENTION_DAYS (default 180): trackers, transcripts, unanswered, leads (--dry-run: ARGS=--dry-run)
	@$(PY) -m scripts.purge $(ARGS)

lock: ## after editing requirements/*.in: install them and rewrite the four lock files (runtime and test, per venv) from the venvs
	@.venv/bin/python -m pip install -q torch==2.13.0 -r requirements/service.in -r requirements/service-test.in
	@.venv/bin/python -m pip freeze | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' \
	  | .venv/bin/python requirements/split_lock.py requirements/service.in requirements/service.lock requirements/service-test.lock
	@.venv-rasa/bin/python -m pip install -q -r requirements/rasa.in -r requirements/rasa-test.in
	@.venv-rasa/bin/python -m pip freeze \
	  | .venv-rasa/bin/python requirements/split_lock.py requirements/rasa.in requirements/rasa.lock requirements/rasa-test.lock

clean: ## remove build outputs (venvs kept)
	rm -rf var models

eval-nlu: train ## intent routing: 3-fold cross-validation of the Rasa NLU data (intent F1, out_of_scope recall); report under var/reports/nlu/
	@rm -rf var/generated/nlu-all && mkdir -p var/generated/nlu-all && cp data/nlu/*.yml $(GEN_NLU)/*.yml var/generated/nlu-all/
	@$(RASA_ENV) $(RASA) test nlu --config config.yml --nlu var/generated/nlu-all --cross-validation --folds 3 --out var/reports/nlu --domain $(DOMAIN)
	@$(PY) -m scripts.nlu_report var/reports/nlu
