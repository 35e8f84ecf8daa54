# Everything a fresh machine needs is installed by these targets: a Python
# venv (on the Lambda runtime's Python when pyenv has it), the Python
# packages, and Node 22 + the MCP conformance harnesses + TypeScript SDK
# clients from the npm registry (tests/js). `make run` and `make test` are
# the two commands in the README.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.13: develop and test on it (found on PATH or
# under pyenv, and actually run, not just a shim); else the default python3.
PYTHON ?= $(shell python3 deploy/pythons.py find 3.13 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
JS := tests/js
NODE := $(JS)/node_modules/.bin/node
PORT ?= 8000
EVENT ?= events/http-v2-tools-call.json

.PHONY: help venv node board-deps board chromium run stdio inspector inspector-stdio inspector-deps invoke test test-python conformance bench soak clean

help:
	@echo "make run          serve the MCP endpoint on http://127.0.0.1:$(PORT)/mcp (no AWS needed)"
	@echo "make test         install everything and run the whole suite, conformance included"
	@echo "make stdio        serve the same server over stdio (desktop clients; logs on stderr)"
	@echo "make inspector KEY=<key> [METHOD=tools/list] [ARGS=...] [URL=...]   call the server with the MCP Inspector CLI"
	@echo "make inspector-stdio [METHOD=tools/list] [ARGS=...]   the same Inspector CLI against the stdio server"
	@echo "make invoke EVENT=events/<file>.json   feed one API Gateway event to the Lambda handler"
	@echo "make conformance  run the official MCP conformance harnesses and print their totals"
	@echo "make bench        benchmark against the SDK's stateless app and a bare Mangum floor"
	@echo "make soak         memory of the warm handler over 20,000 calls, local and deployed-like (fails above a bound)"
	@echo "make board        rebuild the item board page (views/board -> app/views/board.html)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@# A venv left from another Python version is rebuilt on the chosen one.
	@if [ -x "$(PY)" ] && [ "$$($(PY) -c 'import sys; print(sys.version[:4])')" != "$$($(PYTHON) -c 'import sys; print(sys.version[:4])')" ]; then rm -rf $(VENV); fi
	@test -x "$(PY)" || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

$(JS)/node_modules/.installed: $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	@$(NODE) --version | grep -q '^v22\.' || { echo "Node 22 did not install into $(JS)/node_modules" >&2; exit 1; }
	@touch $@

node: $(JS)/node_modules/.installed

# The item board (an MCP App, views/board): esbuild and ext-apps to build it, playwright-core
# to drive the browser test with Debian's chromium (nothing here downloads a browser).
BOARD := views/board
CHROMIUM := /usr/bin/chromium

$(BOARD)/node_modules/.installed: $(BOARD)/package.json $(BOARD)/package-lock.json
	cd $(BOARD) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

board-deps: node $(BOARD)/node_modules/.installed

board: board-deps
	cd $(BOARD) && $(abspath $(NODE)) build.mjs

chromium:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: venv
	PORT=$(PORT) $(PY) -m app.dev.local

# stdout is the MCP protocol here: make echoes nothing, and the venv step talks on stderr.
stdio:
	@$(MAKE) --no-print-directory venv >&2
	@exec $(PY) -m app.dev.stdio

# The MCP Inspector CLI, pinned in tools/inspector. It needs Node >= 22.19 (an
# older Node resolves `npx @modelcontextprotocol/inspector` to 0.x, which has no
# --header), so it runs on the Node 22 of tests/js. `@`: the key is not echoed.
INSPECTOR := tools/inspector
URL ?= http://127.0.0.1:$(PORT)/mcp
METHOD ?= tools/list

$(INSPECTOR)/node_modules/.installed: $(INSPECTOR)/package.json $(INSPECTOR)/package-lock.json $(JS)/node_modules/.installed
	@# `npm install` from the lock, not `npm ci`: vite (an Inspector dependency) names an optional
	@# package the registry does not have, which npm leaves out of the lock and `npm ci` then refuses.
	cd $(INSPECTOR) && PATH="$(abspath $(JS)/node_modules/.bin):$$PATH" npm install --no-save --no-audit --no-fund --loglevel=error
	@touch $@

inspector-deps: node $(INSPECTOR)/node_modules/.installed

inspector: inspector-deps
	@test -n "$(KEY)" || { echo 'usage: make inspector KEY=<key> [METHOD=tools/list] [ARGS="--tool-name echo --tool-arg text=hi"] [URL=$(URL)]' >&2; exit 2; }
	@$(NODE) $(INSPECTOR)/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js --cli $(URL) \
		--transport http --header "Authorization: Bearer $(KEY)" --method $(METHOD) $(ARGS)

# The same Inspector over stdio: it starts `make stdio`'s server itself (no key, no HTTP). The server
# command comes right after --cli, before the Inspector's own options.
inspector-stdio: venv inspector-deps
	@$(NODE) $(INSPECTOR)/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js --cli \
		$(abspath $(PY)) -m app.dev.stdio --method $(METHOD) $(ARGS)

# The committed events carry this local-only development key (refused on Lambda).
EVENTS_DEV_KEY := local-dev-key-for-events
invoke: venv
	MCP_DEV_API_KEY=$${MCP_DEV_API_KEY:-$(EVENTS_DEV_KEY)} $(PY) -m app.dev.invoke $(EVENT)

test: venv node board-deps inspector-deps chromium sam-tools
	@# The suite runs `make stdio` and `make inspector` as a user would, from a shell: without
	@# this make's recursion variables, which would add "Entering directory" lines to stdout.
	env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS $(PY) -m pytest -q

conformance: venv node
	$(PY) -m tests.conformance.run

bench: venv sam-tools
	$(PY) -m bench.run
	@printf 'item board page (app/views/board.html): %s bytes, gzip %s\n' $$(wc -c < app/views/board.html) $$(gzip -9c app/views/board.html | wc -c)
	$(MAKE) --no-print-directory bench-artifact

# Issue 19: RSS and live Python allocations after warm-up, each configuration in a child process of
# its own (moto on 127.0.0.1 for the deployed one). The suite runs a shorter variant (tests/soak).
SOAK_CALLS ?= 20000
soak: venv
	$(PY) -m tests.soak.run --calls $(SOAK_CALLS)

clean:
	rm -rf $(VENV) $(JS)/node_modules $(BOARD)/node_modules $(INSPECTOR)/node_modules .pytest_cache .aws-sam .tools

include deploy/sam.mk
