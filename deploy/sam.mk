# SAM build, validation and artifact checks. Included by the top-level Makefile
# (`include deploy/sam.mk`); `sam build` also runs `build-McpFunction` from here,
# because the template's CodeUri is the repository root (Metadata: BuildMethod: makefile).
#
#   make sam-validate     sam validate --lint, basic sam validate, cfn-lint 1.53.3
#   make sam-build        the deployable artifact (template defaults: arm64, python3.13)
#                         SAM_ENV=prod builds with samconfig's prod parameters
#   make sam-build-host   the same artifact for this machine's architecture
#   make smoke            feed events/*.json (twice each) to the host artifact
#   make bench-artifact   cold start of the host artifact, with vs without bytecode
#
# No AWS account is needed for any of these; `sam deploy` is the first step that does.

SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
CFN_LINT := $(SAM_VENV)/bin/cfn-lint
SAM_ENV ?= default
SAM_HOST_DIR := .aws-sam/host
SAM_HOST_ARTIFACT := $(SAM_HOST_DIR)/build/McpFunction
SAM_HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
BENCH_RUNS ?= 7
# sam never phones home from here (there is nowhere to phone anyway).
SAM_RUN := SAM_CLI_TELEMETRY=0
# Bin directories of the Lambda runtimes' Pythons found on this machine (PATH or
# pyenv), for `sam build`; the build itself looks its interpreter up the same way.
SAM_RUNTIME_PATH = $(shell for v in 3.13 3.12; do python3 deploy/pythons.py bindir $$v 2>/dev/null; done | paste -sd: -)

.PHONY: sam-tools sam-validate sam-build sam-build-host smoke bench-artifact build-McpFunction build-TaskWorkerFunction

$(SAM_VENV)/.installed: deploy/install-sam.sh
	deploy/install-sam.sh

sam-tools: $(SAM_VENV)/.installed

sam-validate: sam-tools
	$(SAM_RUN) $(SAM) validate --lint --template-file template.yaml
	@# Basic (translator) validation wants a region but no credentials. The
	@# config env is one samconfig.toml does not define, so its `lint = true`
	@# does not turn this into a second --lint run.
	$(SAM_RUN) AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --template-file template.yaml --config-env validate-basic
	$(CFN_LINT) template.yaml

sam-build: sam-tools
	PATH="$(SAM_RUNTIME_PATH):$$PATH" $(SAM_RUN) $(SAM) build --config-env $(SAM_ENV) --template-file template.yaml

# Importing the arm64 artifact's compiled extensions (pydantic_core, ...) fails
# on an x86_64 machine, so smoke and bench use a build for this machine, in its
# own directory (its own build.toml too). The arm64 build is checked by sam build only.
sam-build-host: sam-tools
	PATH="$(SAM_RUNTIME_PATH):$$PATH" $(SAM_RUN) $(SAM) build --config-env $(SAM_ENV) --template-file template.yaml \
		--build-dir $(SAM_HOST_DIR)/build --cache-dir $(SAM_HOST_DIR)/cache \
		--parameter-overrides Architecture=$(SAM_HOST_ARCH)

smoke: sam-build-host
	python3 deploy/smoke.py --artifact $(SAM_HOST_ARTIFACT) --events events

bench-artifact: sam-build-host
	python3 deploy/coldstart.py --artifact $(SAM_HOST_ARTIFACT) --runs $(BENCH_RUNS)

# Run by `sam build` with ARTIFACTS_DIR set; see deploy/build-function.sh.
build-McpFunction:
	deploy/build-function.sh "$(ARTIFACTS_DIR)"

# The task worker is the same code with another handler (worker.handler).
build-TaskWorkerFunction:
	deploy/build-function.sh "$(ARTIFACTS_DIR)"
