# rust-echo: `make demo` runs the server; `make test` runs every suite. Both install what is
# missing first (scripts/setup.sh).
SHELL := /bin/bash
REDIS ?= 0
.DEFAULT_GOAL := help
CARGO ?= cargo
BIN := target/debug/rust-echo
EXT := target/debug/librust_echo.so

DEMO_JS := examples/demo/public/build/app.js

.PHONY: help setup build demo demo-assets test test-rust test-third-party test-php test-laravel11 test-e2e lint fmt fuzz bench bench-quick bench-php reliability

help:
	@echo "make demo       the demo chat app on http://127.0.0.1:8000 with rust-echo inside PHP (REDIS=1: over Redis)"
	@echo "make test       every suite: lint, Rust unit and integration, PHP, e2e (Node + real clients)"
	@echo "make bench      rust-echo vs laravel-echo-server and a raw broadcaster, full sizes (about 20 min; writes docs/benchmarks.png)"
	@echo "make bench-quick  the same with smaller counts (under 5 min)"
	@echo "make reliability  exact delivery through every ingress and behaviour under failure, with figures (about 10 min)"
	@echo "make test-rust | test-third-party | test-php | test-laravel11 | test-e2e | lint | fuzz | bench-php"

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --workspace --all-targets

# The demo: `php artisan rust-echo:serve` (server inside PHP) on 127.0.0.1:6001 and the demo app on
# php -S workers at http://127.0.0.1:8000 publishing over shared memory; REDIS=1 for the Redis path.
demo: build demo-assets
	REDIS=$(REDIS) RUST_ECHO_EXT=$(CURDIR)/$(EXT) scripts/demo.sh

demo-assets: setup
	cd examples/demo && npm run --silent build

test: test-third-party build lint test-rust test-php test-laravel11 test-e2e
	@echo "all suites passed"

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	phpcs --standard=PSR12 -q --extensions=php --ignore='*/bootstrap/cache/*,*/node_modules/*' src config php-tests examples/demo

# Rust unit tests and the integration tests in rust-tests/ (each test starts its own
# redis-server on a free port and its own auth endpoint).
test-rust: build
	$(CARGO) test --workspace

# The patched crates under third_party/ (docs/adr/0011 – 0013), each with its own tests and lock file,
# built in a target directory of their own (line tables only, as the workspace's dev profile).
# `make test` runs this suite first; with KEEP_THIRD_PARTY_BUILD=0 (CI's clean checkout) its build
# is deleted once it passes, so that it and the workspace's build never take disk at once.
test-third-party: export CARGO_PROFILE_DEV_DEBUG = line-tables-only
test-third-party: setup
	cd third_party/engineioxide && CARGO_TARGET_DIR=$(CURDIR)/target/third-party $(CARGO) test --features v3,tracing,__test_harness
	cd third_party/tungstenite && CARGO_TARGET_DIR=$(CURDIR)/target/third-party $(CARGO) test --lib
	cd third_party/socketioxide && CARGO_TARGET_DIR=$(CURDIR)/target/third-party $(CARGO) test \
	  --features v4,tracing,__test_harness,extensions,state --lib --tests
	@[ "$(KEEP_THIRD_PARTY_BUILD)" != 0 ] || rm -rf $(CURDIR)/target/third-party

# PHPUnit with the built extension loaded: its API, in-process and shared-memory delivery to a
# real laravel-echo client, forked producers, php -S and php-fpm workers, faults.
test-php: build
	RUST_ECHO_EXT=$(CURDIR)/$(EXT) RUST_ECHO_BIN=$(CURDIR)/$(BIN) \
	  php -d extension=$(CURDIR)/$(EXT) /usr/bin/phpunit -c php-tests/phpunit.xml

# A real Laravel 11 app (.build/laravel11-app, from the skeleton; scripts/setup-laravel11.sh) with
# the package: rust-echo:serve beside php -S workers and Octane on Swoole, artisan and queue:work
# publishing over the ring to laravel-echo clients, no Redis running; and rust-echo hosted inside
# a Swoole server (php-tests/Swoole).
test-laravel11: build
	RUST_ECHO_EXT=$(CURDIR)/$(EXT) RUST_ECHO_BIN=$(CURDIR)/$(BIN) \
	  php -d extension=$(CURDIR)/$(EXT) /usr/bin/phpunit -c php-tests/Laravel11/phpunit.xml

# laravel-echo + socket.io-client 2.x and 4.x against the built binary; the suite starts its own
# redis-server and auth endpoint.
test-e2e: build demo-assets
	cd e2e && RUST_ECHO_BIN=$(CURDIR)/$(BIN) RUST_ECHO_EXT=$(CURDIR)/$(EXT) node --test --test-concurrency=1 tests/

# µs per publish from PHP: RustEcho\publish and Laravel's broadcast through the `rust` driver,
# in-process and over shared memory, against phpredis (release build); then requests per second
# of an Octane route that broadcasts, with the rust, redis and reverb drivers side by side.
PHP_BENCH := php -d extension=$(CURDIR)/target/release/librust_echo.so
bench-php: setup
	$(CARGO) build --release -p rust-echo-server -p rust_echo
	$(PHP_BENCH) bench/php/publish_cost.php
	$(PHP_BENCH) bench/php/broadcast_cost.php
	RUST_ECHO_EXT=$(CURDIR)/target/release/librust_echo.so php bench/php/octane_rps.php

# Side by side with laravel-echo-server 1.6.3 and a raw WebSocket broadcaster (bench/loadgen):
# fan-out, authorized subscriptions, idle memory, then PHP's publish cost. Tables, then
# `ratio NAME VALUE` lines; non-zero exit when rust-echo lost a message. The PHP part runs even
# when the load part fails, so every ratio is printed. `make bench` also runs the Pusher-protocol
# fan-out beside Laravel Reverb (bench/loadgen/src/bin/pusher_fanout.rs; needs the Laravel 11 app).
ECHO_BENCH := bench/loadgen/target/release/echo-bench
PUSHER_BENCH := bench/loadgen/target/release/pusher-fanout
bench-quick: setup
	$(CARGO) build --release -p rust-echo-server -p rust_echo
	cd bench/loadgen && $(CARGO) build --release
	@status=0; $(ECHO_BENCH) --quick --chart $(CURDIR)/bench/output/quick/benchmarks.png || status=$$?; \
	  $(PHP_BENCH) bench/php/broadcast_cost.php 20000 || status=1; exit $$status

bench: setup
	$(CARGO) build --release -p rust-echo-server -p rust_echo
	cd bench/loadgen && $(CARGO) build --release
	@status=0; $(ECHO_BENCH) --full --chart $(CURDIR)/docs/benchmarks.png || status=$$?; \
	  $(PHP_BENCH) bench/php/broadcast_cost.php 100000 || status=1; \
	  $(PUSHER_BENCH) --clients 500 --events 200 || status=1; exit $$status

# The reliability suite (bench/reliability, docs/reliability.md) against the release binary and
# extension: one `figure NAME VALUE` line per measurement, non-zero exit when anything was lost or
# a check failed. RELIABILITY_ARGS=--quick for smaller counts; --only ingress,redis,... for some.
RELIABILITY_ARGS ?=
reliability: setup
	$(CARGO) build --release -p rust-echo-server -p rust_echo
	$(CARGO) build --release --manifest-path bench/reliability/Cargo.toml --target-dir $(CURDIR)/target
	target/release/echo-reliability $(RELIABILITY_ARGS)

# Coverage-guided fuzzing of client-event and Redis-message decoding and of the ring consumer over
# whole ring images (FUZZ_SECONDS per target).
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for t in redis_message client_event ring_image; do \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

fmt:
	$(CARGO) fmt --all
