#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 300) each and prints the executions.
# Needs cargo-fuzz (cargo install cargo-fuzz --version 0.13.2 --locked). cargo-fuzz wants
# nightly flags; RUSTC_BOOTSTRAP lets the one stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-300}
export RUSTC_BOOTSTRAP=1
for t in $(cargo fuzz list); do
  mkdir -p "fuzz/corpus/$t"
  echo "== $t: ${secs}s"
  cargo fuzz run "$t" -- -max_total_time="$secs" -max_len=4096 2>&1 | tee "fuzz/$t.log" | grep -E '^Done|^==|panicked|SUMMARY' || true
  if grep -qE 'SUMMARY|panicked|deadly signal' "fuzz/$t.log"; then
    echo "fuzz target $t found a crash: see fuzz/$t.log and fuzz/artifacts/$t" >&2
    exit 1
  fi
done
