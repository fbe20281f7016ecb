#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 300) each and prints the executions.
# Needs cargo-fuzz (cargo install cargo-fuzz --version 0.13.2 --locked). cargo-fuzz wants
# nightly flags; RUSTC_BOOTSTRAP lets the one stable toolchain accept them.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-300}
export RUSTC_BOOTSTRAP=1
status=0
for t in $(cargo fuzz list); do
  mkdir -p "fuzz/corpus/$t"
  echo "== $t: ${secs}s"
  cargo fuzz run "$t" -- -max_total_time="$secs" -max_len=4096 >"fuzz/$t.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] || ! grep -q '^Done ' "fuzz/$t.log"; then
    grep -E 'panicked|SUMMARY|^error' "fuzz/$t.log" | head -5
    echo "fuzz target $t failed (exit $rc): see fuzz/$t.log and fuzz/artifacts/$t" >&2
    status=1
    continue
  fi
  grep '^Done ' "fuzz/$t.log"
done
exit $status
