#!/usr/bin/env bash
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
#
# Seeds the corpora (fuzz/seed.sh), then runs each fuzz target (all by default) for SECONDS
# seconds (default 60), prints the executions per target and exits non-zero if any target
# failed (crash, panic, leak, timeout). Crashing inputs land in fuzz/artifacts/<target>/,
# libFuzzer's output in fuzz/artifacts/<target>.log.
#
# framing, lend and pipeline also read the recorded corpus ($SSECHUNK_CORPUS/fantasy, default
# ../shared/corpus/fantasy) when it is present; libFuzzer only ever writes new inputs to the
# first corpus directory, fuzz/corpus/<target>.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); uses the nightly toolchain when one
# is installed, else stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs unstable flags).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(framing lend chunk pipeline fast_path template dialects)

if rustup toolchain list 2>/dev/null | grep -q nightly; then
    fuzz=(cargo +nightly fuzz)
else
    fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi

bash fuzz/seed.sh || exit 1

recorded=${SSECHUNK_CORPUS:-../shared/corpus}/fantasy
[ -d "$recorded" ] || recorded=

summary=()
failed=0
for target in "${targets[@]}"; do
    corpora=("$PWD/fuzz/corpus/$target")
    case $target in
        framing | pipeline | dialects) [ -z "$recorded" ] || corpora+=("$(cd "$recorded" && pwd)") ;;
        # Parser::frames takes whole streams, as framing does: framing's seeds serve it too.
        lend)
            mkdir -p "${corpora[0]}" && corpora+=("$PWD/fuzz/corpus/framing")
            [ -z "$recorded" ] || corpora+=("$(cd "$recorded" && pwd)")
            ;;
        # The fast path takes event data, as chunk does: chunk's seeds serve it too.
        fast_path) mkdir -p "${corpora[0]}" && corpora+=("$PWD/fuzz/corpus/chunk") ;;
    esac
    # Event data reach 36 KB in the recorded corpus; whole streams are cut short to fuzz fast.
    max_len=4096
    case $target in chunk | fast_path | template) max_len=65536 ;; esac
    mkdir -p fuzz/artifacts
    log=fuzz/artifacts/$target.log
    echo "=== $target: ${seconds}s, corpora: ${corpora[*]}"
    "${fuzz[@]}" run "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" -dict=fuzz/dict/sse.dict -max_len="$max_len" \
        -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
    # fast_path and template print how many inputs each decoding path took: both must run.
    paths=$(grep '^paths: ' "$log" | tail -n 1)
    if [ "$status" -eq 0 ] && [ -n "$paths" ]; then
        result="ok; $paths"
        case $target in
            fast_path) need=(fast simd-json) ;;
            template) need=(fast template simd-json) ;;
        esac
        for path in "${need[@]}"; do
            if ! grep -qE " $path [1-9]" <<<"$paths"; then
                result="FAILED (the $path path never ran: $paths)"
                failed=1
            fi
        done
    elif [ "$status" -eq 0 ] && [[ $target == fast_path || $target == template ]]; then
        result="FAILED (no count of the decoding paths in $log)"
        failed=1
    elif [ "$status" -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $status, see $log and fuzz/artifacts/$target/)"
        failed=1
    fi
    summary+=("$(printf '%-10s %12s executions  %s' "$target" "${execs:-?}" "$result")")
done

echo
echo "=== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
