#!/usr/bin/env bash
# Builds the abi3 wheel of the mqseal Python package into build/wheels/ with maturin, and
# prints its path. maturin comes from the project-local virtualenv build/venv, created
# here on first use.
# Usage: bindings/python/build-wheel.sh   (from any directory; PYTHON overrides python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
python="${PYTHON:-python3}"
venv="${root}/build/venv"
wheels="${root}/build/wheels"

if [ ! -x "${venv}/bin/maturin" ]; then
    "${python}" -m venv "${venv}"
    "${venv}/bin/pip" install --quiet 'maturin>=1.9,<2'
fi

rm -rf "${wheels}"
"${venv}/bin/maturin" build --release --manifest-path "${here}/Cargo.toml" --out "${wheels}" >&2

shopt -s nullglob
built=("${wheels}"/mqseal-*.whl)
if [ "${#built[@]}" -ne 1 ]; then
    echo "build-wheel: expected one wheel in ${wheels}, found ${#built[@]}" >&2
    exit 1
fi
echo "${built[0]}"
