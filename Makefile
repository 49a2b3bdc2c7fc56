# rust-echo: `make demo` runs the server; `make test` runs every suite. Both install what is
# missing first (scripts/setup.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
BIN := target/debug/rust-echo
EXT := target/debug/librust_echo.so

.PHONY: help setup build demo test test-rust test-php test-e2e lint fmt fuzz bench-php

help:
	@echo "make demo       build and run rust-echo on 127.0.0.1:6001 (examples/laravel-echo-server.json)"
	@echo "make test       every suite: lint, Rust unit and integration, PHP, e2e (Node + real clients)"
	@echo "make test-rust | test-php | test-e2e | lint | fuzz | bench-php"

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --workspace --all-targets

demo: build
	$(BIN) start --config examples/laravel-echo-server.json

test: build lint test-rust test-php test-e2e
	@echo "all suites passed"

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	phpcs --standard=PSR12 -q --ignore='*/bootstrap/cache/*' src config php-tests

# Rust unit tests and the integration tests in rust-tests/ (each test starts its own
# redis-server on a free port and its own auth endpoint).
test-rust: build
	$(CARGO) test --workspace

# PHPUnit with the built extension loaded: its API, in-process and shared-memory delivery to a
# real laravel-echo client, forked producers, php -S and php-fpm workers, faults.
test-php: build
	RUST_ECHO_EXT=$(CURDIR)/$(EXT) RUST_ECHO_BIN=$(CURDIR)/$(BIN) \
	  php -d extension=$(CURDIR)/$(EXT) /usr/bin/phpunit -c php-tests/phpunit.xml

# laravel-echo + socket.io-client 2.x and 4.x against the built binary; the suite starts its own
# redis-server and auth endpoint.
test-e2e: build
	cd e2e && RUST_ECHO_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 tests/

# µs per publish from PHP: in-process and shared memory against phpredis PUBLISH (release build).
bench-php: setup
	$(CARGO) build --release -p rust-echo-server -p rust_echo
	php -d extension=$(CURDIR)/target/release/librust_echo.so bench/php/publish_cost.php

# Coverage-guided fuzzing of client-event and Redis-message decoding (FUZZ_SECONDS per target).
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for t in redis_message client_event; do \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

fmt:
	$(CARGO) fmt --all
