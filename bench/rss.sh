#!/bin/sh
# Peak RSS (and wall time) of each tracedat command on bench:gen's set of SIZE (default 2G),
# one run each, stdout to /dev/null: `sh bench/rss.sh 2G` (the set is made first if missing)
# writes bench/RSS.md. The CLI runs as the installed bin does, through its #! line.
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
  /usr/bin/time -o "$out/rss-time.txt" -f "%e %M" "$@" > /dev/null 2> "$out/rss-err.txt" || { echo "| $name | failed: $(head -c 300 "$out/rss-err.txt") | |"; return; }
  set -- $(tail -1 "$out/rss-time.txt")
  echo "| $name | $1 s | $(($2 / 1024)) MiB |"
}
{
echo "# Peak RSS"
echo
echo "Written by \`sh bench/rss.sh $size\` on $(date -u '+%Y-%m-%d %H:%M') UTC: one run of each command on the $size set, peak resident set from \`/usr/bin/time\` (%M)."
echo
echo "| command (input: $(ls -l single-none.dat | awk '{printf "%.0f MB", $5/1e6}') single, $(ls -l single-zstd.dat | awk '{printf "%.0f MB", $5/1e6}') as zstd; pairs: $(ls -l ts-host-none.dat ts-guest-none.dat | awk '{s+=$5} END {printf "%.0f MB", s/1e6}') TIME_SHIFT, $(ls -l kvm-host-none.dat kvm-guest-none.dat | awk '{s+=$5} END {printf "%.0f MB", s/1e6}') KVM) | wall | peak RSS |"
echo "|---|---|---|"
m "report" sh "$cli" report single-none.dat
m "report (zstd input)" sh "$cli" report single-zstd.dat
m "report -F (~1%)" sh "$cli" report -F '.*: COMM =~ "^kworker"' single-none.dat
m "report --format json" sh "$cli" report --format json single-none.dat
m "report -w" sh "$cli" report -w single-none.dat
m "report --stat (zstd input)" sh "$cli" report --stat single-zstd.dat
m "dump --summary" sh "$cli" dump --summary single-none.dat
m "dump --flyrecord (zstd input)" sh "$cli" dump --flyrecord single-zstd.dat
m "convert to v7 zstd" sh "$cli" convert -i single-none.dat -o "$out/o-rss.dat" --compression zstd
m "convert to v6" sh "$cli" convert -i single-none.dat -o "$out/o-rss.dat" --file-version 6
m "convert to v6 (zstd input)" sh "$cli" convert -i single-zstd.dat -o "$out/o-rss.dat" --file-version 6
m "merge TIME_SHIFT pair --compression none" sh "$cli" merge -i ts-host-none.dat -i ts-guest-none.dat -o "$out/o-rss.dat" --compression none
m "merge TIME_SHIFT pair (zstd)" sh "$cli" merge -i ts-host-none.dat -i ts-guest-none.dat -o "$out/o-rss.dat"
m "merge KVM pair (zstd)" sh "$cli" merge -i kvm-host-none.dat -i kvm-guest-none.dat -o "$out/o-rss.dat"
m "attach KVM pair" sh "$cli" attach -i kvm-host-zstd.dat -i kvm-guest-zstd.dat --out-dir "$out/o-rss-attach"
m "report -i kvm-host -i kvm-guest" sh "$cli" report -i kvm-host-none.dat -i kvm-guest-none.dat
m "explain KVM pair" sh "$cli" explain -i kvm-host-none.dat -i kvm-guest-none.dat
m "decode only (API)" node "$root/bench/api.mjs" decode single-none.dat
} > "$root/bench/RSS.md.tmp"
mv "$root/bench/RSS.md.tmp" "$root/bench/RSS.md"
rm -rf "$out/o-rss.dat" "$out"/o-rss* "$out/rss-time.txt" "$out/rss-err.txt"
cat "$root/bench/RSS.md"
