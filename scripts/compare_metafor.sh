#!/usr/bin/env bash
# Side-by-side timing of metan and metafor on the same SIMULATED datasets.
# Needs R with metafor for the metafor side; without R it says so and exits 0.
# Usage: scripts/compare_metafor.sh [outdir]   (default target/compare)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/compare}"
if ! command -v Rscript >/dev/null 2>&1; then
  echo "compare_metafor: Rscript not found; install R and metafor to run the comparison (Debian: apt-get install -y r-base-core r-cran-metafor r-cran-metadat). Skipping."
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
status=0
python3 - "$out" <<'PY' || status=1
import csv, sys
csv.field_size_limit(sys.maxsize)
out = sys.argv[1]
r = {(row["op"], row["k"]): row for row in csv.DictReader(open(f"{out}/metafor_results.csv"))}
fmt = lambda s: f"{s:.2f} s" if s >= 1 else (f"{s*1e3:.2f} ms" if s >= 1e-3 else f"{s*1e6:.1f} us")
def nums(text):
    return [float(x) for x in text.split(";") if x not in ("", "NA")]
print("| operation | k | metafor | metan | metafor/metan | numbers compared | max rel. diff |")
print("|---|---|---|---|---|---|---|")
worst = 0.0
failed = []
for line in open(f"{out}/metan_results.csv"):
    op, k, reps, sec, vals = line.strip().split(",")
    m = r.get((op, k))
    if m is None:
        print(f"| {op} | {k} | (not timed) | {fmt(float(sec))} | | | |")
        continue
    ms, ns = float(m["sec"]), float(sec)
    a, b = nums(vals), nums(m["values"])
    if len(a) != len(b):
        agree = f"MISMATCH: {len(a)} vs {len(b)} numbers"
        worst = float("inf")
    else:
        # relative difference; values within 1e-12 of 0 in both (tau^2 at the boundary)
        # count by their absolute difference
        d = [abs(x - y) / abs(y) if abs(y) > 1e-12 else abs(x - y) for x, y in zip(a, b)]
        tol = float(m.get("tol") or 1e-9)
        if d and max(d) > tol:
            failed.append(op)
        if tol <= 1e-9:
            worst = max([worst] + d)
        agree = (f"{max(d):.1e}" if d else "n/a") + (f" (tol {tol:.0e})" if tol > 1e-9 else "")
    note = f" ({m['note']})" if m["note"] else ""
    print(f"| {op}{note} | {k} | {fmt(ms)} | {fmt(ns)} | {ms/ns:,.0f}x | {len(b)} | {agree} |")
print(f"\nworst relative difference over the rows compared at 1e-9: {worst:.1e}")
if failed:
    print("rows beyond their tolerance: " + ", ".join(failed))
sys.exit(0 if worst < 1e-9 and not failed else 1)
PY
echo
echo "== metan alone: the performance targets =="
cargo run --release --quiet --example bench_compare -- "$out" --targets > "$out/targets.txt"
cargo build --release --quiet --features cli --bin metan
csv_line=""
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "%e|%M" -o "$out/csv_time.txt" target/release/metan fit "$out/simulated_k1000000.csv" > /dev/null
  IFS='|' read -r wall kb < "$out/csv_time.txt"
  csv_line="metan fit on a 10^6-row CSV (wall clock; peak memory $((kb / 1024)) MB, target 200 MB)|$wall|1"
else
  echo "(/usr/bin/time not found: the CSV row is skipped)"
fi
python3 - "$out/targets.txt" "$csv_line" <<'PY'
import sys
fmt = lambda s: f"{s:.2f} s" if s >= 1 else (f"{s*1e3:.1f} ms" if s >= 1e-3 else f"{s*1e6:.1f} us")
lines = [l.strip() for l in open(sys.argv[1]) if l.strip()] + ([sys.argv[2]] if sys.argv[2] else [])
print("| operation | metan | target | |")
print("|---|---|---|---|")
for l in lines:
    op, got, want = l.split("|")
    got, want = float(got), float(want)
    ratio = "ratio" in op or "/" in op
    show = (lambda x: f"{x:.1f}") if ratio else fmt
    verdict = "met" if got <= want else f"missed by {100 * (got / want - 1):.0f}%"
    print(f"| {op} | {show(got)} | <= {show(want)} | {verdict} |")
PY
exit $status
