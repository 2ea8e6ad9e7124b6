# mqseal: one Makefile over cargo, cbindgen, the C examples and Maven.
# `make demo` runs the main job; `make test` runs every test; `make lint` checks style.

CARGO ?= cargo
SHELL := /bin/bash

.PHONY: all build test demo bench lint fmt header check-header test-rust test-c test-java clean

all: build

build:
	$(CARGO) build --release --workspace

# --- Rust core ----------------------------------------------------------------
test-rust:
	$(CARGO) test --workspace
	$(CARGO) test -p mqseal-core --no-default-features --features rustcrypto
	$(CARGO) test -p mqseal-core --features rustcrypto

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --features mqseal-core/rustcrypto -- -D warnings
	scripts/check-headers.sh

fmt:
	$(CARGO) fmt --all

# --- C ABI (crates/mqseal-ffi, include/, examples/c) ---------------------------
header:
	@echo "header: provided by the C ABI work"

check-header:
	@echo "check-header: provided by the C ABI work"

test-c:
	@echo "test-c: provided by the C ABI work"

# --- Java (bindings/java, examples/java) ---------------------------------------
test-java:
	@echo "test-java: provided by the Java work"

demo:
	@echo "demo: provided by the Java work"

# --- Everything -----------------------------------------------------------------
test: test-rust check-header test-c test-java

bench:
	$(CARGO) bench -p mqseal-core

clean:
	$(CARGO) clean
