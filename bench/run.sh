#!/usr/bin/env bash
# Times `connlint check` against the parse-only floor (read + tree-sitter-parse every file in
# parallel, nothing else) on a large real Python tree fetched from PyPI, in alternating runs so
# that drift in the machine's speed affects both sides alike: a cold run (`--no-cache`), a warm
# run (the analysis cache written by the run before, over the unchanged tree), and the floor.
#
#   bench/run.sh [RUNS]        (default 5 pairs; set BENCH_PACKAGES="name==ver ..." to change)
#
# Needs: cargo, python3 with pip, network access to PyPI the first time (cached in bench/work).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
packages=${BENCH_PACKAGES:-"sqlalchemy==2.0.36"}
work=bench/work
mkdir -p "$work/src"

for spec in $packages; do
  name=${spec%%==*}
  if ! compgen -G "$work/src/${name}-*" >/dev/null && ! compgen -G "$work/src/${name,,}-*" >/dev/null; then
    echo "fetching $spec (source distribution) ..." >&2
    python3 -m pip download --quiet --no-binary :all: --no-deps "$spec" -d "$work/dl"
    for archive in "$work"/dl/*; do
      case "$archive" in
        *.tar.gz) tar -xzf "$archive" -C "$work/src" ;;
        *.zip) python3 -m zipfile -e "$archive" "$work/src" ;;
      esac
    done
    rm -rf "$work/dl"
  fi
done

echo "building release binaries ..." >&2
cargo build --quiet --release --bin connlint
cargo build --quiet --release -p connlint_analyzer --example parse_only
cargo build --quiet --release --example measure
connlint=target/release/connlint
floor=target/release/examples/parse_only
tree="$work/src"

# The prefilter must not change a finding: compare one run with it and one without.
"$connlint" check --no-cache --format json "$work/src" > "$work/prefilter-on.json" || true
"$connlint" check --no-cache --no-prefilter --format json "$work/src" > "$work/prefilter-off.json" || true
python3 - "$work/prefilter-on.json" "$work/prefilter-off.json" <<'PY'
import json, sys
on, off = (json.load(open(p))["findings"] for p in sys.argv[1:3])
if on != off:
    sys.exit(f"the prefilter changed the findings: {len(on)} with it, {len(off)} without")
print(f"prefilter: identical findings with and without ({len(on)})")
PY
rm -rf "$work/cache"
python3 - "$runs" "$connlint" "$floor" "$tree" "$work/cache" <<'PY'
import os, statistics, subprocess, sys, platform

runs, connlint, floor, tree, cache = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
# bench/measure.rs reports each run's time and peak memory (measured from Python, a child's
# peak would include Python's own resident size, carried over its `exec`).
measure = "target/release/examples/measure"
files = lines = 0
for root, _, names in os.walk(tree):
    for n in names:
        if n.endswith(".py"):
            files += 1
            with open(os.path.join(root, n), "rb") as f:
                lines += f.read().count(b"\n")

commands = {
    "connlint cold": [connlint, "check", "--no-cache", "--format", "json", tree],
    "connlint warm": [connlint, "check", "--cache-dir", cache, "--format", "json", tree],
    "parse only": [floor, tree],
}

def run(cmd):
    out = subprocess.run([measure, *cmd], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{cmd[0]}: {out.stderr.strip()}")
    seconds, peak_kib, code = out.stdout.split()
    if int(code) not in (0, 1):
        sys.exit(f"{cmd[0]} failed with exit code {code}")
    return float(seconds), int(peak_kib) / 1024  # KiB -> MiB on Linux

times = {k: [] for k in commands}
peaks = {k: [] for k in commands}
for cmd in commands.values():  # warm the file cache (and write the analysis cache)
    run(cmd)
for _ in range(runs):
    for name, cmd in commands.items():  # A B A B ...
        t, m = run(cmd)
        times[name].append(t)
        peaks[name].append(m)

ratios = [a / b for a, b in zip(times["connlint cold"], times["parse only"])]
warm = [a / b for a, b in zip(times["connlint warm"], times["connlint cold"])]
print(f"tree: {tree} ({files} files, {lines} lines); {runs} alternating runs each")
print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
print(f"{'':16} {'median s':>9} {'min s':>7} {'peak MiB':>9} {'lines/s':>11}")
for name in commands:
    med = statistics.median(times[name])
    print(f"{name:16} {med:9.2f} {min(times[name]):7.2f} {max(peaks[name]):9.0f} {lines / med:11,.0f}")
print(f"paired ratio connlint cold/parse-only: median {statistics.median(ratios):.2f}, "
      f"min {min(ratios):.2f}, max {max(ratios):.2f} (target <= 1.5)")
print(f"paired ratio connlint warm/cold: median {statistics.median(warm):.2f}, "
      f"min {min(warm):.2f}, max {max(warm):.2f}")
PY
