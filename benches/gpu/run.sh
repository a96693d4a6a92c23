#!/bin/bash
# Issue 15, item 4: the GPU figures on a node with an NVIDIA GPU, in one run.
#
#   benches/gpu/run.sh OUT [MIXFARM]
#
# writes into OUT: selftest.json (every kernel against its CPU twin, the adapter's limits),
# bench.json (`bench --songs 16 --stems 16 --seconds 240`: per-stage GPU time, GB/s, the
# GPU-vs-CPU speed-up on this node's cores), and master-{gpu,cpu}.{time,json} (a generated
# 100-song catalog mastered with `--backend gpu`, then `--backend cpu`, same node, whole
# batch: decode, chain, loudness, limiter, encode). Sizes can be lowered for a dry run on a
# software adapter: BENCH_SONGS, BENCH_STEMS, BENCH_SECONDS (bench), CAT_ALBUMS, CAT_SONGS,
# CAT_SECONDS (catalog), ALLOW_SOFTWARE=1 (llvmpipe, a minute: the sizes of 2, 2, 2, 1, 2, 3).
set -euo pipefail
out=${1:?usage: benches/gpu/run.sh OUT [MIXFARM]}
bin=${2:-target/release/mixfarm}
mkdir -p "$out"
soft=()
[ "${ALLOW_SOFTWARE:-0}" = 1 ] && soft=(--allow-software)
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
"$bin" devices --json >"$out/devices.json"
"$bin" selftest --json "${soft[@]}" >"$out/selftest.json"
"$bin" bench --songs "${BENCH_SONGS:-16}" --stems "${BENCH_STEMS:-16}" --seconds "${BENCH_SECONDS:-240}" \
    --json "${soft[@]}" >"$out/bench.json"
cat=$out/catalog
rm -rf "$cat"
"$bin" synth-catalog "$cat" --albums "${CAT_ALBUMS:-10}" \
    --songs-per-album "${CAT_SONGS:-10}" --seconds "${CAT_SECONDS:-240}" >/dev/null
for backend in gpu cpu; do
    rm -rf "$out/master-$backend"
    /usr/bin/time -v -o "$out/master-$backend.time" "$bin" master \
        --manifest "$cat/manifest.csv" --out "$out/master-$backend" --backend "$backend" \
        --format wav24 --quiet
    cp "$out/master-$backend/summary.json" "$out/master-$backend.json"
    rm -rf "$out/master-$backend"
done
rm -rf "$cat"
grep -h "Elapsed" "$out"/master-*.time
