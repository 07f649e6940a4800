# mlops-reference: every workflow is a make target. `make help` lists them.
#
# Two commands on a fresh clone:  make demo   and   make test
# Each target that needs Python depends on the venv, which is (re)built from the
# hash-pinned lock whenever requirements.lock or pyproject.toml change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON_BOOT ?= python3.11
VENV        ?= .venv
BIN         := $(VENV)/bin
PY          := $(BIN)/python
PIP         := $(BIN)/pip
DVC         := $(BIN)/dvc
INSTALLED   := $(VENV)/.installed
LOCK        := requirements.lock
# Poetry (`make lock`) lives in a venv of its own, installed from its own hash-pinned lock.
POETRY_VENV ?= .tools/poetry
POETRY      := $(POETRY_VENV)/bin/poetry
POETRY_REQS := tools/poetry-requirements.lock
POETRY_VERSION        ?= 2.5.1
POETRY_EXPORT_VERSION ?= 1.10.1

MLFLOW_HOST ?= 127.0.0.1
MLFLOW_PORT ?= 5000
# `make serve` / `make serve-yolo`: the champions behind `mlflow models serve` (one at a time).
SERVE_PORT ?= 5001
# A local folder outside git acts as the default DVC remote (offline push/pull).
DVC_REMOTE_DIR ?= $(abspath $(CURDIR)/../.dvc-remote-mlops-reference)

# Keep every tool offline and quiet, whatever the user's shell has (src/runtime_env.py
# applies the same defaults to direct `python -m` calls).
export MLFLOW_DISABLE_TELEMETRY ?= true
export DVC_NO_ANALYTICS ?= 1
export ZENML_ANALYTICS_OPT_IN ?= false
export YOLO_OFFLINE ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Python keeps what it compiles (the project's modules, pytest's rewritten tests) in the ignored
# __pycache__/ folders, as it does by default. A PYTHONDONTWRITEBYTECODE=1 inherited from a
# container image would make every command compile them again (tools/bench/NOTES.md, B9);
# BYTECODE_CACHE=off keeps the inherited setting.
BYTECODE_CACHE ?= on
ifeq ($(BYTECODE_CACHE),on)
unexport PYTHONDONTWRITEBYTECODE
endif
# dvc.yaml's `python -m ...` commands must find the venv's interpreter.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n\033[1m%s\033[0m\n", substr($$0, 5)} \
	  /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Setup
.PHONY: install lock
install: $(INSTALLED) ## Create .venv from the hash-pinned lock and install the project (editable)

$(INSTALLED): $(LOCK) pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@mkdir -p .ultralytics/Ultralytics && cp -n $$($(PY) -c "import matplotlib, pathlib; \
	  print(pathlib.Path(matplotlib.get_data_path()) / 'fonts/ttf/DejaVuSans.ttf')") \
	  .ultralytics/Ultralytics/Arial.ttf 2>/dev/null || true
	@touch $@

lock: $(POETRY) ## Re-lock: poetry lock (keeps locked versions), then export requirements.lock (hashes, dev extra)
	$(POETRY) lock
	$(POETRY) export -f requirements.txt --extras dev | { echo "# Exported from poetry.lock by" \
	  "\`make lock\` (poetry export -f requirements.txt --extras dev): do not edit."; cat; } > $(LOCK).tmp
	@mv $(LOCK).tmp $(LOCK)
	@# A package's description is its authors' free text; any other URL is a source or index.
	@! grep -n -E 'index-url|https?://|^\[package\.source\]' poetry.lock | grep -v -E '^[0-9]+:description = ' \
	  || { echo "poetry.lock names a package index"; exit 1; }
	@! grep -n -E 'index-url|https?://' $(LOCK) || { echo "$(LOCK) names a package index"; exit 1; }

.PHONY: poetry poetry-tool-lock
poetry: $(POETRY) ## Install the pinned Poetry (+ poetry-plugin-export) into .tools/poetry

$(POETRY): $(POETRY_REQS)
	@rm -rf $(POETRY_VENV) && $(PYTHON_BOOT) -m venv $(POETRY_VENV)
	$(POETRY_VENV)/bin/pip install --quiet --require-hashes --no-deps -r $(POETRY_REQS)
	@touch $@

poetry-tool-lock: $(INSTALLED) ## Re-pin Poetry's own lock (POETRY_VERSION=..., POETRY_EXPORT_VERSION=...)
	printf '%s\n' poetry==$(POETRY_VERSION) poetry-plugin-export==$(POETRY_EXPORT_VERSION) | \
	  $(BIN)/uv pip compile - --universal --python-version 3.11 --generate-hashes --quiet \
	  --custom-compile-command "make poetry-tool-lock" -o $(POETRY_REQS)
	@! grep -n -E 'index-url|https?://' $(POETRY_REQS) || { echo "lock names a registry host"; exit 1; }

##@ Iris: data, training, MLflow
.PHONY: prepare train evaluate export experiments mlflow-ui mlflow-experiments
prepare: $(INSTALLED) ## Write data/raw/iris.csv and the train/test split
	$(PY) -m src.data.prepare

train: $(INSTALLED) ## Train the Iris classifier with MLflow tracking and registry
	$(PY) -m src.training.train

evaluate: $(INSTALLED) ## Evaluate the trained model: metrics, confusion matrix, plots
	$(PY) -m src.evaluation.evaluate

export: $(INSTALLED) ## Export the model as an MLflow model directory (mlflow models serve)
	$(PY) -m src.deploy.export

experiments: $(INSTALLED) ## Run 5+ differently configured trainings as runs of one experiment
	$(PY) -m src.training.experiments

mlflow-ui: $(INSTALLED) ## Serve the MLflow UI on 127.0.0.1:5000 over the same store (MLFLOW_PORT=5001 to move it)
	$(PY) -m src.tracking_cli ui --host $(MLFLOW_HOST) --port $(MLFLOW_PORT)

mlflow-experiments: $(INSTALLED) ## List experiments and their runs with key metrics
	$(PY) -m src.tracking_cli experiments

##@ DVC pipeline
.PHONY: dvc-init dvc-repro dvc-status dvc-pipeline dvc-metrics dvc-plots dvc-push dvc-pull
dvc-init: $(INSTALLED) ## Configure DVC (idempotent): offline switches and the local remote
	@$(DVC) config core.check_update false
	@$(DVC) config core.analytics false
	@mkdir -p "$(DVC_REMOTE_DIR)"
	@$(DVC) remote add --local --force localremote "$(DVC_REMOTE_DIR)"
	@# A default chosen elsewhere is kept (make stack-register makes `minio` the default).
	@$(DVC) remote default >/dev/null 2>&1 || $(DVC) remote default --local localremote
	@echo "DVC ready; default remote: $$($(DVC) remote default) (localremote: $(DVC_REMOTE_DIR))"

dvc-repro: $(INSTALLED) ## Reproduce the pipeline (only stages whose inputs changed)
	$(DVC) repro

dvc-status: $(INSTALLED) ## Show which stages are out of date
	$(DVC) status

dvc-pipeline: $(INSTALLED) ## Draw the stage DAG
	$(DVC) dag

dvc-metrics: $(INSTALLED) ## Show metrics, and their diff against the last commit
	$(DVC) metrics show
	$(DVC) metrics diff

dvc-plots: $(INSTALLED) ## Render DVC plots to reports/plots/index.html (draws offline: Vega bundled)
	$(PY) tools/render_dvc_plots.py --out reports/plots

dvc-push: dvc-init ## Push data and models to the default DVC remote
	$(DVC) push

dvc-pull: dvc-init ## Pull data and models from the default DVC remote
	$(DVC) pull

##@ YOLO: dataset, training, ZenML
.PHONY: cv-data cv-data-coco128
cv-data: $(INSTALLED) ## Build data/tiny_person from cv.dataset.source (default: the synthetic COCO128, offline; DVC)
	$(DVC) repro make_tiny_person

cv-data-coco128: $(INSTALLED) ## Real COCO128 (needs internet): params.yaml selects data/coco128, dvc repro downloads and cuts it
	$(PY) tools/download_coco128.py --select-in-params
	$(DVC) repro make_tiny_person

# The zenml CLI does not import src/, so it gets the project's state folder from here
# (the server stack's folder when .env sets ZENML_CONFIG_PATH, as src/runtime_env reads it).
ZENML_LOCAL_PORT ?= 8237
ZENML_DOTENV_STATE := $(shell sed -n 's/^ZENML_CONFIG_PATH=//p' .env 2>/dev/null | tail -n 1)
zenml-%: export ZENML_CONFIG_PATH ?= $(abspath $(or $(ZENML_DOTENV_STATE),$(CURDIR)/.zenml-state))
zenml-%: export ZENML_AUTO_OPEN_DASHBOARD ?= false
.PHONY: cv-train zenml-init zenml-stack-local zenml-baseline zenml-grid zenml-up zenml-down report \
  yolo-figures
cv-train: $(INSTALLED) ## Train YOLOv8n once with cv.train into one MLflow run (ARGS="--epochs 2 --imgsz 64")
	$(PY) -m src.train_cv $(ARGS)

zenml-init: $(INSTALLED) ## zenml init at the repo root; register the local MLflow stack if none is active (src/zenml_setup)
	$(PY) -m src.zenml_setup init

zenml-stack-local: $(INSTALLED) ## (Re)register and activate the local stack: default orchestrator + MLflow tracker
	$(PY) -m src.zenml_setup local

zenml-baseline: $(INSTALLED) ## Run the YOLO pipeline once with cv.train (data -> train -> evaluate -> summary)
	$(PY) -m src.zenml_pipelines.run_yolo_pipeline_baseline

zenml-grid: $(INSTALLED) ## Run the cv.grid pipelines, register the best (challenger/champion), write the report
	$(PY) -m src.zenml_pipelines.run_yolo_pipeline_grid

.PHONY: zenml-tune
zenml-tune: $(INSTALLED) ## Optuna study (TPE + median pruner) over the cv.grid ranges, resumable; registers the best, writes the report (ARGS="--n-trials 3")
	$(PY) -m src.zenml_pipelines.run_yolo_tune $(ARGS)

zenml-up: $(INSTALLED) ## Start ZenML's local server and dashboard on http://127.0.0.1:8237 (no Docker)
	$(BIN)/zenml login --local --port $(ZENML_LOCAL_PORT) --ip-address 127.0.0.1

zenml-down: $(INSTALLED) ## Stop ZenML's local server; the client goes back to its local store
	$(BIN)/zenml logout --local

FIGURES ?= baseline,finetune,grid
yolo-figures: $(INSTALLED) ## Measure the README's YOLO tables with this machine's name on them (~15 min; FIGURES=baseline)
	$(PY) tools/yolo_figures.py --only $(FIGURES)

report: $(INSTALLED) ## Write reports/decision_<grid>.md from the latest grid's MLflow runs
	$(PY) -m src.cv.report

##@ Serving: the registry's champions over REST (mlflow models serve, --env-manager local)
.PHONY: serve serve-yolo
serve: $(INSTALLED) ## Serve models:/iris-classifier@champion on 127.0.0.1:5001/invocations (SERVE_PORT=...)
	$(PY) -m src.tracking_cli serve iris --host $(MLFLOW_HOST) --port $(SERVE_PORT)

serve-yolo: $(INSTALLED) ## Serve models:/yolo-tiny-person@champion (base64 images in, detections out)
	$(PY) -m src.tracking_cli serve yolo --host $(MLFLOW_HOST) --port $(SERVE_PORT)

##@ Full stack: S3 + MLflow server + ZenML server (src/services; selected by .env, see .env.example)
# `docker compose` (v2) when the Docker CLI has it, else Debian's docker-compose (v1).
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
# Debian packages some integration tests use: compose validation and the browser check.
TEST_TOOLS ?= docker-compose chromium ffmpeg
.PHONY: stack-up stack-down stack-logs stack-status stack-up-local stack-down-local stack-register \
  secrets doctor test-tools
stack-up: $(INSTALLED) ## Start the compose stack (MinIO, Postgres, MLflow, ZenML server) and wait for health
	@$(PY) -m src.services check --compose
	$(COMPOSE) up -d --build $(if $(findstring docker compose,$(COMPOSE)),--wait,)
	@echo "Next: uncomment the server block of .env, then make stack-register and make doctor"

stack-down: ## Stop the compose stack (volumes kept; `docker compose down -v` deletes them)
	$(COMPOSE) down

stack-logs: ## Follow the compose services' logs
	$(COMPOSE) logs -f --tail=200

stack-status: $(INSTALLED) ## Show the compose services (if Docker is here) and the no-Docker stack
	@if ! command -v docker >/dev/null 2>&1; then echo "compose: no Docker on this machine"; \
	  elif ! $(COMPOSE) version >/dev/null 2>&1; then \
	    echo "compose: the Docker CLI here has no compose (neither \`docker compose\` nor docker-compose)"; \
	  else $(COMPOSE) ps || echo "compose: the Docker engine did not answer"; fi
	@$(PY) -m src.services status || true

stack-up-local: $(INSTALLED) ## Start the same stack without Docker on 127.0.0.1 (moto S3, MLflow with basic auth, ZenML)
	$(PY) -m src.services up

stack-down-local: $(INSTALLED) ## Stop exactly the processes stack-up-local started
	$(PY) -m src.services down

stack-register: $(INSTALLED) ## ZenML login + S3/MLflow stack, DVC remote `minio`, from .env (idempotent)
	$(PY) -m src.services register

secrets: $(INSTALLED) ## Fill .env (from .env.example if absent) with random secrets; never replaces one you set
	@$(PY) -m src.services secrets

doctor: ## Check venv, versions, S3, MLflow (and its auth), ZenML, DVC remote: one line each, non-zero on failure
	@test -x $(PY) || { echo "✗ venv               $(VENV) missing — hint: make install"; exit 1; }
	@$(PY) -m src.services doctor $(DOCTOR_ARGS)

test-tools: ## Install the Debian tools of the integration tests (docker-compose, chromium) if apt can
	@missing=""; for tool in $(TEST_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	docker compose version >/dev/null 2>&1 && missing="$${missing/ docker-compose/}"; \
	command -v google-chrome >/dev/null && missing="$${missing/ chromium/}"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && sudo="sudo -n"; }; \
	if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || [ -n "$$sudo" ]; }; then \
	  echo "Installing$$missing with apt-get (used by tests/integration/services)"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null; \
	else echo "Not installing$$missing (needs apt-get and root); the tests using them skip"; fi

##@ Benchmarks
.PHONY: bench bench-install
bench: $(INSTALLED) ## Measure tooling overheads (every id but B7) into reports/bench.md (BENCH_ARGS="--only B1,B6 --repeats 5")
	$(PY) -m tools.bench $(BENCH_ARGS)

bench-install: $(INSTALLED) ## Measure `make install` into empty venvs, cold and warm pip cache (B7, minutes)
	$(PY) -m tools.bench --only B7 $(BENCH_ARGS)

##@ Quality
.PHONY: test test-fast lint format
# Tests run in a shuffled order (pytest-randomly), fixed by TEST_SEED so a failure can be
# replayed: every test must stand alone. TEST_SEED=$$RANDOM tries another order.
# They run on TEST_WORKERS processes (pytest-xdist; auto = one per core, 0 = this process);
# a test module, and the server-stack tests together, run on one worker (tests/conftest.py).
TEST_SEED ?= 20261201
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -p randomly --randomly-seed=$(TEST_SEED) \
  -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder
test: $(INSTALLED) test-tools $(POETRY) ## Run the whole test suite in random order (unit + integration on loopback)
	$(PYTEST)

test-fast: $(INSTALLED) ## Run the unit tests only, in random order (seconds)
	@# Only tests/unit is collected: importing the integration modules (torch, ultralytics)
	@# to deselect them cost seconds.
	$(PYTEST) tests/unit -m "not integration" -q

lint: $(INSTALLED) ## ruff (lint + format check) and mypy on src/ and tools/
	$(BIN)/ruff check src tools tests
	$(BIN)/ruff format --check src tools tests
	$(BIN)/mypy src tools

format: $(INSTALLED) ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format src tools tests
	$(BIN)/ruff check --fix src tools tests

##@ Demo and housekeeping
.PHONY: demo clean screenshots demo-video
# Each step announces itself as "[i/3] what (command)", so a log shows where a demo is.
demo: $(INSTALLED) ## Install, reproduce the DVC pipeline, run the Iris experiments and the YOLO baseline pipeline; offline
	@echo "[1/3] DVC pipeline: Iris prepare, train, evaluate, export; YOLO dataset (dvc repro) ..."
	$(DVC) repro
	@echo "[2/3] Iris experiments: a small grid of runs in MLflow (src.training.experiments) ..."
	$(PY) -m src.training.experiments
	@echo "[3/3] YOLO baseline: the ZenML pipeline, tracked in MLflow (run_yolo_pipeline_baseline) ..."
	$(PY) -m src.zenml_pipelines.run_yolo_pipeline_baseline
	@echo
	@echo "Results:"
	@echo "  runs/yolo/              YOLO baseline run folder (ZenML pipeline, MLflow experiment yolo-tiny-person)"
	@echo "  models/                 model, metadata.json, metrics.json, iris_mlflow_model/"
	@echo "  reports/evaluation/     metrics, confusion matrix (JSON + PNG), classification report"
	@echo "  mlflow.db, mlartifacts/ MLflow runs, artifacts and the model registry"
	@echo "Open the UI:  make mlflow-ui   then browse http://$(MLFLOW_HOST):$(MLFLOW_PORT)"

# make screenshots and make demo-video run the project in a copy of it with stores of its own
# (never mlflow.db or .zenml-state/), kept here so the video reuses the screenshots' runs.
DEMO_WORKSPACE ?= $(abspath $(CURDIR)/../.mlops-reference-demo)
screenshots: $(INSTALLED) test-tools ## Regenerate docs/images/*.png from real runs in DEMO_WORKSPACE, checked (~8 min)
	$(PY) -m tools.screenshots --workspace "$(DEMO_WORKSPACE)" --keep

demo-video: $(INSTALLED) test-tools ## Record reports/demo/DEMO_VIDEO.mp4 (3-5 min of real runs; reuses make screenshots' workspace)
	$(PY) -m tools.demo_video --workspace "$(DEMO_WORKSPACE)"

clean: ## Remove generated, untracked outputs (keeps .venv, mlflow.db, the DVC cache, git files)
	rm -rf data/processed/*.csv models/iris_model.pkl models/metadata.json models/iris_mlflow_model \
	  reports/plots runs .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +
