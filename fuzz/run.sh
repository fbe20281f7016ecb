#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 300) each and prints the executions.
# Needs cargo-fuzz (cargo install cargo-fuzz --version 0.13.2 --locked). cargo-fuzz wants
# nightly flags; RUSTC_BOOTSTRAP lets the one stable toolchain accept them.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-300}
export RUSTC_BOOTSTRAP=1
vectors=${VECTORS:-../shared/vectors/golden}
# Seed each corpus with Broker's own values: binary for bin_decode, JSON for json_decode,
# text for text_parse.
python3 - "$vectors" <<'PY'
import csv, os, sys
src = os.path.join(sys.argv[1], "data-bin-v1.tsv")
if not os.path.exists(src):
    sys.exit(0)
def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s.startswith("\\\\", i): out += b"\\"; i += 2
        elif s.startswith("\\x", i): out.append(int(s[i+2:i+4], 16)); i += 4
        else: out += s[i].encode(); i += 1
    return bytes(out)
for row in csv.DictReader(open(src), delimiter="\t", quoting=csv.QUOTE_NONE):
    for target, data in (("bin_decode", bytes.fromhex(row["bin_v1_hex"])),
                         ("json_decode", unescape(row["json_v1"])),
                         ("text_parse", unescape(row["text"]))):
        d = os.path.join("fuzz/corpus", target)
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, "golden-" + row["id"]), "wb").write(data[:4096])
PY
# zeek_log_decode starts from the records a real Zeek sent (tests/zeek_log.rs fuzz_seeds).
mkdir -p fuzz/corpus/zeek_log_decode && cp fuzz/seeds/zeek_log_decode/* fuzz/corpus/zeek_log_decode/
status=0
for t in $(cargo fuzz list); do
  mkdir -p "fuzz/corpus/$t"
  echo "== $t: ${secs}s"
  dict=()
  [ -f "fuzz/${t%%_*}.dict" ] && dict=(-dict="fuzz/${t%%_*}.dict")
  cargo fuzz run "$t" -- -max_total_time="$secs" -max_len=4096 "${dict[@]}" >"fuzz/$t.log" 2>&1
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
