# Rollcall — see README.md. Every target that needs services starts them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := $(CURDIR)/.local/bin
STACK := bash deploy/stack.sh
WITH_ENV := eval "$$($(STACK) env)";
STATICCHECK_VERSION := v0.8.2
WORKFLOWCHECK_VERSION := v0.6.0
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: dev test test-unit bench lint build down stack status clean models

## dev: run the whole system (services, migrations, seed, API + worker) and print the URLs
dev:
	bash deploy/dev.sh

## test: install and start the services, then run every test against them
test: stack
	$(WITH_ENV) $(GO) vet ./... && $(GO) test -count=1 -timeout 45m ./...

## bench: print throughput and latency figures (real stack, loopback HTTP)
bench: stack
	$(WITH_ENV) $(GO) test -run '^$$' -bench . -benchtime 5s -timeout 45m ./bench/...

## lint: gofmt, go vet, staticcheck, workflowcheck
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@test -x $(BIN)/staticcheck || GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(BIN)/workflowcheck || GOBIN=$(BIN) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)
	$(BIN)/staticcheck ./...
	$(BIN)/workflowcheck ./workflows/...

## build: the rollcall binary into .local/bin
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/rollcall ./cmd/rollcall

stack:
	$(STACK) up

## models: fetch the built-in provider's face models (pinned, integrity-checked) into .local/models
models:
	bash deploy/models.sh

status:
	$(STACK) status

## down: stop every service of the local stack
down:
	$(STACK) down
