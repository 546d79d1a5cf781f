#!/bin/sh
# Peak RSS (and wall time) of each tracedat command on bench:gen's set of SIZE (default 2G),
# one run each, stdout to /dev/null: `sh bench/rss.sh 2G` (the set is made first if missing).
# bench/RESULTS.md's "Peak RSS" table comes from it.
set -e
size=${1:-2G}
root=$(cd "$(dirname "$0")/.." && pwd)
node "$root/bench/gen.mjs" --size "$size" > /dev/null
cd "$root/bench/data/gen-$size"
cli="$root/dist/cli.js"
out="$root/bench/data/out"
mkdir -p "$out"
m() {
  name="$1"; shift
  /usr/bin/time -o "$out/rss-time.txt" -f "%e %M" "$@" > /dev/null 2> "$out/rss-err.txt" || { echo "$name: failed: $(head -c 300 "$out/rss-err.txt")"; return; }
  set -- $(tail -1 "$out/rss-time.txt")
  echo "| $name | $1 s | $(($2 / 1024)) MiB |"
}
echo "| command (input: $(ls -l single-none.dat | awk '{printf "%.0f MB", $5/1e6}') single, pairs half each) | wall | peak RSS |"
echo "|---|---|---|"
m "report single-none" node "$cli" report single-none.dat
m "report single-zstd" node "$cli" report single-zstd.dat
m "report -F (~1%)" node "$cli" report -F '.*: COMM =~ "^kworker"' single-none.dat
m "report --format json" node "$cli" report --format json single-none.dat
m "dump --summary" node "$cli" dump --summary single-none.dat
m "convert to v7 zstd" node "$cli" convert -i single-none.dat -o "$out/o-rss.dat" --compression zstd
m "convert to v6" node "$cli" convert -i single-none.dat -o "$out/o-rss.dat" --file-version 6
m "merge TIME_SHIFT pair --compression none" node "$cli" merge -i ts-host-none.dat -i ts-guest-none.dat -o "$out/o-rss.dat" --compression none
m "merge KVM pair (zstd)" node "$cli" merge -i kvm-host-none.dat -i kvm-guest-none.dat -o "$out/o-rss.dat"
m "report -i kvm-host -i kvm-guest" node "$cli" report -i kvm-host-none.dat -i kvm-guest-none.dat
m "decode only (API)" node "$root/bench/api.mjs" decode single-none.dat
rm -f "$out/o-rss.dat" "$out/rss-time.txt" "$out/rss-err.txt"
