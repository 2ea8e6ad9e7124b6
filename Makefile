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
# FFI_PROFILE selects the cargo profile of libmqseal.so/.a that the C tests link.
FFI_PROFILE ?= release
FFI_LIBDIR := $(CURDIR)/target/$(if $(filter dev,$(FFI_PROFILE)),debug,$(FFI_PROFILE))

.PHONY: c-tools ffi-lib

# cbindgen 0.29.4 (pinned), gcc and valgrind; installs only what is missing.
c-tools:
	scripts/install-tools.sh

ffi-lib:
	$(CARGO) build -p mqseal-ffi --profile $(FFI_PROFILE)

# Regenerates include/mqseal.h from crates/mqseal-ffi with cbindgen.
header: c-tools
	scripts/gen-header.sh

# Fails when include/mqseal.h differs from a fresh generation.
check-header: c-tools
	scripts/check-header.sh

# The C test and the C examples, with ASan/UBSan and under valgrind (tests/c/run.sh).
test-c: c-tools ffi-lib
	tests/c/run.sh $(FFI_LIBDIR)

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
