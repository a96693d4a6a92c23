#!/usr/bin/env bash
# Peak resident memory (GNU time's "Maximum resident set size") of the one engine:
#  - `render --backend cpu` of one scene of 7 stereo stems at 60 s and at 240 s, and of 16
#    stereo stems at 360 s;
#  - `master --album-mode album` of one album of about 11 minutes (3 songs × 220 s).
# Usage: benches/rss.sh [path/to/mixfarm]   (default target/release/mixfarm)
set -euo pipefail
BIN=${1:-target/release/mixfarm}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print int($2/1024) " MB"}'; }
for run in 7:60 7:240 16:360; do
  stems=${run%%:*} secs=${run##*:}
  d="$T/s$stems-$secs"
  "$BIN" synth-catalog "$d" --albums 1 --songs-per-album "$stems" --seconds "$secs" 2>/dev/null
  {
    echo 'sample_rate = 44100'
    echo '[output]'
    echo 'file = "mix.wav"'
    echo '[master]'
    echo 'target_lufs = -14.0'
    i=0
    tail -n +2 "$d/manifest.csv" | cut -d, -f1 | while read -r f; do
      i=$((i + 1))
      printf '[[track]]\nname = "stem%d"\nfile = "%s"\ngain_db = -8.0\n' "$i" "$f"
    done
  } > "$d/scene.toml"
  echo "render --backend cpu, $stems stereo stems × ${secs} s: $(peak "$BIN" render "$d/scene.toml" --out "$d/out" --backend cpu)"
done
d="$T/album"
"$BIN" synth-catalog "$d" --albums 1 --songs-per-album 3 --seconds 220 2>/dev/null
echo "master --album-mode album, 3 songs × 220 s (stereo float masters $((3 * 220 * 44100 * 2 * 4 / 1048576)) MB): $(peak "$BIN" master --manifest "$d/manifest.csv" --out "$d/out" --album-mode album --backend cpu)"
