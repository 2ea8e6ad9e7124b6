#!/usr/bin/env bash
# Installs the tools the C ABI build needs, at pinned versions, when they are missing.
#   cbindgen 0.29.4  generates include/mqseal.h (make header / make check-header)
#   cargo-fuzz 0.13.2 and the nightly toolchain run the fuzz targets (make fuzz-smoke)
#   local-kms        the AWS KMS test server (tests/kms/local-kms.sh), with go install
# gcc and valgrind come from Debian packages (make test-c); they are installed with
# apt-get only when absent and when running as root.
# Safe to run repeatedly: each tool is installed only when absent or at another version.
#
# `install-tools.sh softhsm` installs only SoftHSM2 (Debian package softhsm2) for the
# PKCS#11 tests, when softhsm2-util is absent, as root or through sudo.
set -euo pipefail

if [ "${1:-}" = softhsm ]; then
    if ! command -v softhsm2-util >/dev/null 2>&1; then
        as_root=()
        if [ "$(id -u)" != 0 ]; then
            if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
                as_root=(sudo -n)
            else
                echo "install-tools: SoftHSM2 is missing; install the softhsm2 package as root" >&2
                exit 1
            fi
        fi
        if ! command -v apt-get >/dev/null 2>&1; then
            echo "install-tools: SoftHSM2 is missing; install it with your package manager" >&2
            exit 1
        fi
        echo "install-tools: installing softhsm2 with apt-get" >&2
        "${as_root[@]}" apt-get update -qq
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2
    fi
    echo "install-tools: SoftHSM2 $(softhsm2-util --version 2>/dev/null | head -n1)" >&2
    exit 0
fi

CBINDGEN_VERSION=0.29.4
LOCAL_KMS_MODULE=github.com/nsmithuk/local-kms
LOCAL_KMS_VERSION=v0.0.0-20260228092603-2a5e92d09ab6

have_cbindgen() {
    command -v cbindgen >/dev/null 2>&1 &&
        [ "$(cbindgen --version 2>/dev/null)" = "cbindgen ${CBINDGEN_VERSION}" ]
}

if ! have_cbindgen; then
    echo "install-tools: installing cbindgen ${CBINDGEN_VERSION}" >&2
    cargo install cbindgen --version "${CBINDGEN_VERSION}" --locked
fi

# cargo-fuzz needs nightly for -Zsanitizer; rustup adds it when it is absent.
CARGO_FUZZ_VERSION=0.13.2
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "install-tools: installing the nightly toolchain (minimal profile)" >&2
    rustup toolchain install nightly --profile minimal
fi
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz ${CARGO_FUZZ_VERSION}" ]; then
    echo "install-tools: installing cargo-fuzz ${CARGO_FUZZ_VERSION}" >&2
    cargo install cargo-fuzz --version "${CARGO_FUZZ_VERSION}" --locked
fi

GO="$(command -v go || echo /usr/local/go/bin/go)"
have_local_kms() {
    local bin
    bin="$("$GO" env GOPATH)/bin/local-kms"
    [ -x "$bin" ] && "$GO" version -m "$bin" 2>/dev/null |
        grep -q "mod[[:space:]]*${LOCAL_KMS_MODULE}[[:space:]]*${LOCAL_KMS_VERSION}"
}

if [ ! -x "$GO" ]; then
    echo "install-tools: go is missing, so local-kms cannot be installed; install Go 1.22 or newer" >&2
    exit 1
fi
if ! have_local_kms; then
    echo "install-tools: installing local-kms ${LOCAL_KMS_VERSION}" >&2
    "$GO" install "${LOCAL_KMS_MODULE}@${LOCAL_KMS_VERSION}"
fi

missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "install-tools: installing ${missing[*]} with apt-get" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "install-tools: missing ${missing[*]}; install them with your package manager" >&2
        exit 1
    fi
fi

echo "install-tools: $(cbindgen --version), $(cargo fuzz --version), $(gcc --version | head -n1), $(valgrind --version), local-kms ${LOCAL_KMS_VERSION}" >&2
