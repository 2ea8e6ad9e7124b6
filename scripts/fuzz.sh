#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a bounded time, one after another, and
# writes the executions of each to build/fuzz/summary.txt. Fails when any target finds
# a crash (the reproducer is kept in build/fuzz/artifacts/<target>/), or when an input
# of fuzz/regressions/<target>/ fails again.
#
# Environment:
#   FUZZ_SECONDS    seconds per target (default 60)
#   FUZZ_TARGETS    space-separated targets (default: every target in fuzz/Cargo.toml)
#   FUZZ_SANITIZER  cargo-fuzz sanitizer: address (default) or none
#   FUZZ_TOOLCHAIN  rustup toolchain with -Z flags (default nightly)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
sanitizer=${FUZZ_SANITIZER:-address}
toolchain=${FUZZ_TOOLCHAIN:-nightly}
cargo_fuzz_version=0.13.2
out="$root/build/fuzz"

if [[ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $cargo_fuzz_version" ]]; then
    echo "fuzz: installing cargo-fuzz $cargo_fuzz_version"
    cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"
fi

fuzz() {
    cargo "+$toolchain" fuzz "$@"
}

if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <(fuzz list --fuzz-dir "$root/fuzz")
fi

mkdir -p "$out"
fuzz build --fuzz-dir "$root/fuzz" --sanitizer "$sanitizer" --release --debug-assertions

# Replay the reproducers of past findings (fuzz/regressions/<target>/) once each, with
# the binaries just built; -runs=0 stops after the inputs given have run.
regressions_failed=()
for dir in "$root"/fuzz/regressions/*/; do
    target=$(basename "$dir")
    echo "fuzz: replaying the reproducers in fuzz/regressions/$target"
    fuzz run --fuzz-dir "$root/fuzz" --sanitizer "$sanitizer" --release --debug-assertions "$target" \
        "$dir" -- -runs=0 >"$out/regressions-$target.log" 2>&1 || regressions_failed+=("$target")
done
if [[ ${#regressions_failed[@]} -gt 0 ]]; then
    echo "fuzz: a reproducer fails again for ${regressions_failed[*]}; see $out/regressions-*.log" >&2
    exit 1
fi

summary="$out/summary.txt"
{
    echo "# cargo fuzz run, sanitizer=$sanitizer, $seconds s per target, $(nproc) CPUs"
    printf '%-20s %14s %8s %s\n' target executions seconds result
} >"$summary"

failed=()
for target in "${targets[@]}"; do
    log="$out/logs/$target.log"
    # New inputs go to the first corpus directory, so the committed seeds stay unchanged.
    work="$out/corpus/$target"
    seeds="$root/fuzz/corpus/$target"
    artifacts="$out/artifacts/$target"
    mkdir -p "$(dirname "$log")" "$work" "$seeds" "$artifacts"
    echo "fuzz: running $target for $seconds s (log: $log)"
    start=$(date +%s)
    status=0
    fuzz run --fuzz-dir "$root/fuzz" --sanitizer "$sanitizer" --release --debug-assertions "$target" \
        "$work" "$seeds" -- \
        -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    # libFuzzer prints "stat::number_of_executed_units: N" with -print_final_stats=1 and
    # "#N DONE ..." when the time is up; after a crash only the last "#N" status line.
    executions=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [[ -z "$executions" ]]; then
        executions=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)
    fi
    result=ok
    if [[ $status -ne 0 ]]; then
        result="FAILED (exit $status)"
        failed+=("$target")
        grep -E '^(SUMMARY|==[0-9]+==ERROR|thread .* panicked)|Test unit written to' "$log" >&2 || true
    fi
    printf '%-20s %14s %8s %s\n' "$target" "${executions:-unknown}" "$elapsed" "$result" | tee -a "$summary"
done

echo "fuzz: summary written to $summary"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: ${failed[*]} found a crash; see $out/logs and $out/artifacts" >&2
    exit 1
fi
