#!/usr/bin/env bash
# Side-by-side timing of metan and metafor on the same SIMULATED datasets.
# Needs R with metafor for the metafor side; without R it says so and exits 0.
# Usage: scripts/compare_metafor.sh [outdir]   (default target/compare)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/compare}"
if ! command -v Rscript >/dev/null 2>&1; then
  echo "compare_metafor: Rscript not found; install R and metafor to run the comparison. Skipping."
  exit 0
fi
if ! Rscript -e 'quit(status = !requireNamespace("metafor", quietly = TRUE))' >/dev/null 2>&1; then
  echo "compare_metafor: the R package metafor is not installed. Skipping."
  exit 0
fi
mkdir -p "$out"
echo "== metafor (R) =="
Rscript scripts/compare_metafor.R "$out" | tee "$out/versions.txt"
echo "== metan =="
cargo run --release --quiet --example bench_compare -- "$out" > "$out/metan_results.csv"
python3 - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
r = {(row["op"], row["k"]): row for row in csv.DictReader(open(f"{out}/metafor_results.csv"))}
fmt = lambda s: f"{s:.2f} s" if s >= 1 else (f"{s*1e3:.2f} ms" if s >= 1e-3 else f"{s*1e6:.1f} us")
def num(x):
    try:
        v = float(x); return None if v != v else v
    except ValueError:
        return None
print("| operation | k | metafor | metan | metafor/metan | max rel. diff (estimate, tau2, se) |")
print("|---|---|---|---|---|---|")
for line in open(f"{out}/metan_results.csv"):
    op, k, reps, sec, *vals = line.strip().split(",")
    m = r.get((op, k))
    if m is None:
        continue
    ms, ns = float(m["sec"]), float(sec)
    diffs = []
    for a, b in zip(vals, (m["estimate"], m["tau2"], m["se"])):
        a, b = num(a), num(b)
        if a is not None and b is not None:
            diffs.append(abs(a - b) / max(abs(b), 1e-300) if a != b else 0.0)
    agree = f"{max(diffs):.1e}" if diffs else "n/a (p-values are Monte Carlo)"
    note = f" ({m['note']})" if m["note"] else ""
    print(f"| {op}{note} | {k} | {fmt(ms)} | {fmt(ns)} | {ms/ns:,.0f}x | {agree} |")
PY
