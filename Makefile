# mqseal: one Makefile over cargo, cbindgen, the C examples and Maven.
# `make demo` runs the main job; `make test` runs every test; `make lint` checks style.

CARGO ?= cargo
SHELL := /bin/bash

.PHONY: all build test demo bench lint fmt header check-header test-rust test-c test-java clean

all: build

build:
	$(CARGO) build --release --workspace

# --- Rust core ----------------------------------------------------------------
# The workspace enables mqseal-core's pkcs11 feature, so its tests need SoftHSM2.
# The AWS KMS tests (crates/mqseal-core/tests/aws_kms.rs) start local-kms themselves;
# scripts/install-tools.sh installs it.
test-rust: hsm-tools c-tools
	$(CARGO) test --workspace
	$(CARGO) test -p mqseal-core --no-default-features --features rustcrypto
	$(CARGO) test -p mqseal-core --features rustcrypto

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --features mqseal-core/rustcrypto -- -D warnings
	$(MAKE) check-header

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

# --- PKCS#11 provider (tests/hsm, SoftHSM2) -------------------------------------
.PHONY: hsm-tools test-pkcs11

# SoftHSM2 (Debian package softhsm2); installs it only when missing.
hsm-tools:
	scripts/install-tools.sh softhsm

# Creates a private SoftHSM2 token store (tests/hsm/softhsm.sh) with KEK
# pkcs11:mqseal-test made by `mqseal keygen`, runs the PKCS#11 provider tests, the C ABI
# check (tests/c/run-pkcs11.sh) and the CLI check (tests/hsm/cli.sh) against it, and
# removes the store.
test-pkcs11: hsm-tools c-tools ffi-lib
	$(CARGO) build -p mqseal-cli
	MQSEAL_CLI=$(CURDIR)/target/debug/mqseal tests/hsm/softhsm.sh init
	eval "$$(tests/hsm/softhsm.sh env)" && \
		$(CARGO) test -p mqseal-core --features pkcs11 --test pkcs11
	tests/c/run-pkcs11.sh $(FFI_LIBDIR)
	tests/hsm/cli.sh $(CURDIR)/target/debug/mqseal
	tests/hsm/softhsm.sh clean

# --- Java binding (bindings/java/native, bindings/java/mqseal-java) ------------
.PHONY: java-lib test-java-lib bench-java

JAVA_POM := bindings/java/pom.xml
# Short JMH run: one fork, 2 warm-up and 3 measured iterations of one second each.
JMH_ARGS ?= -f 1 -wi 2 -i 3 -w 1s -r 1s

# Builds the JNI library (release) and installs the mqseal-java jar, which carries
# it, into ~/.m2.
java-lib:
	bindings/java/build-native.sh
	mvn -B -q -f $(JAVA_POM) -pl mqseal-java -am install -DskipTests

# Runs the mqseal-java tests (JUnit 5, Surefire) against a fresh native library.
test-java-lib:
	bindings/java/build-native.sh
	mvn -B -f $(JAVA_POM) -pl mqseal-java -am verify

# Runs the JMH benchmarks (bindings/java/mqseal-bench) and writes build/bench/jmh.json.
bench-java: java-lib
	mvn -B -q -f $(JAVA_POM) -Pbench -pl mqseal-bench -am package -DskipTests
	mkdir -p build/bench
	java -jar bindings/java/mqseal-bench/target/benchmarks.jar $(JMH_ARGS) \
		-rf json -rff build/bench/jmh.json

# --- Java (bindings/java, examples/java) ---------------------------------------
# Builds mqseal-java and mqseal-rocketmq, starts a local RocketMQ (tests/rocketmq/rmq.sh),
# runs the mqseal-rocketmq tests against it and stops it, also when a test fails.
test-java: c-tools
	scripts/test-java.sh

.PHONY: test-java-grpc

# Builds mqseal-java, mqseal-rocketmq-common and mqseal-rocketmq5, starts a local RocketMQ
# NameServer and Proxy in local mode (rmq.sh start --proxy), runs the mqseal-rocketmq5 tests
# against its gRPC endpoint and stops it, also when a test fails.
test-java-grpc:
	scripts/test-java-grpc.sh

# Builds everything, starts a local RocketMQ, sends and decrypts encrypted messages,
# scans the broker's disk and logs for plaintext, compares throughput, stops RocketMQ.
demo:
	scripts/demo.sh

# Runs the AWS KMS examples (Python and Java) against local-kms (scripts/kms-examples.sh).
.PHONY: kms-examples
kms-examples: c-tools
	scripts/kms-examples.sh

# --- Python (bindings/python) ------------------------------------------------------
PYTHON ?= python3

.PHONY: test-python test-python-rocketmq bench-python

# Builds the abi3 wheel with maturin (from build/venv), installs it with pytest into a
# fresh virtualenv build/venv-test, and runs bindings/python/tests there.
test-python:
	wheel="$$(PYTHON=$(PYTHON) bindings/python/build-wheel.sh)" && \
	rm -rf build/venv-test && \
	$(PYTHON) -m venv build/venv-test && \
	build/venv-test/bin/pip install --quiet "$$wheel" 'pytest>=8' && \
	build/venv-test/bin/python -m pytest -p no:cacheprovider bindings/python/tests

# Installs the wheel with the extra "rocketmq" (pinned by bindings/python/constraints-rocketmq.txt)
# into build/venv-rocketmq, starts a local RocketMQ NameServer and Proxy (tests/rocketmq/rmq.sh
# start --proxy) on free ports and runs bindings/python/tests-rocketmq against it.
test-python-rocketmq:
	PYTHON=$(PYTHON) scripts/test-python-rocketmq.sh

# Compares mqseal with cryptography's AESGCM, tink and the AWS Encryption SDK per message
# (bindings/python/bench/bench.py) and writes build/bench/python.json. A peer package
# that pip cannot install is reported as missing.
bench-python:
	wheel="$$(PYTHON=$(PYTHON) bindings/python/build-wheel.sh)" && \
	{ test -x build/venv-bench/bin/python || $(PYTHON) -m venv build/venv-bench; } && \
	build/venv-bench/bin/pip install --quiet --force-reinstall --no-deps "$$wheel" && \
	for package in cryptography tink aws-encryption-sdk; do \
		build/venv-bench/bin/pip install --quiet "$$package" || \
			echo "bench-python: pip could not install $$package; it is reported as missing"; \
	done && \
	build/venv-bench/bin/python bindings/python/bench/bench.py --json build/bench/python.json

# --- Fuzzing (fuzz/, cargo-fuzz on the nightly toolchain) -------------------------
.PHONY: fuzz-smoke fuzz

# Replays the reproducers in fuzz/regressions, then runs every fuzz target for
# FUZZ_SECONDS (default 60) seconds, one after another; fails on any crash and writes the
# executions per target to build/fuzz/summary.txt.
fuzz-smoke:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) scripts/fuzz.sh

# The same run with FUZZ_SECONDS defaulting to 600 seconds per target.
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600) scripts/fuzz.sh

# --- Secret hygiene ---------------------------------------------------------------
.PHONY: secret-hygiene

# Runs the CLI and the C examples on a keyring with a random sentinel KEK, with failing
# inputs too, and fails if the KEK or the sentinel plaintext appears in any output.
secret-hygiene:
	scripts/secret-hygiene.sh

# --- Interop matrix (tests/interop) -------------------------------------------------
.PHONY: test-interop

# Starts a NameServer and a Proxy in local mode; every language leg sends encrypted
# messages that every leg decrypts; prints the producer x consumer x suite x compression
# table (scripts/test-interop.sh).
test-interop:
	scripts/test-interop.sh

# --- Everything -----------------------------------------------------------------
test: test-rust check-header test-c test-pkcs11 test-java-lib test-python test-java test-java-grpc test-python-rocketmq secret-hygiene test-interop kms-examples

bench:
	$(CARGO) bench -p mqseal-core --features rustcrypto --bench envelope
	scripts/bench-summary.py

clean:
	$(CARGO) clean
