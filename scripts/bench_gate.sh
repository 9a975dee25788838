#!/usr/bin/env bash
# The benchmark gate (issue 19): times the key operations as ratios to a calibration kernel
# timed in the same process (benches/gate.rs) and compares them with benches/baseline.json.
# Prints one table; exits 1 when a ratio is more than the baseline's `tolerance` times its
# baseline. Under ~3 minutes on 2 cores (build included when target/ is warm).
#
#   bash scripts/bench_gate.sh            # check
#   bash scripts/bench_gate.sh --update   # rewrite benches/baseline.json on purpose; commit it
#   bash scripts/bench_gate.sh --rounds 9 # more rounds (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
export RAYON_NUM_THREADS=1
mode=--gate
args=()
for a in "$@"; do
  if [ "$a" = "--update" ]; then mode=--update; else args+=("$a"); fi
done
exec cargo bench --bench gate -- "$mode" "${args[@]+"${args[@]}"}"
