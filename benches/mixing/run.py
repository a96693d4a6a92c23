#!/usr/bin/env python3
"""The mixing row of issue 15: a unity stem sum read from files, the whole batch.

Generates 8 stereo 24-bit 44.1 kHz stems of 120 s with ffmpeg (stem i: pink noise of seed i
and a 100·i Hz sine, at 0.3: stem levels, so the sum stays under the ceiling as a mix does;
the recipe of the earlier rows of benches/RESULTS.md), writes 3 scenes that each sum all 8
at unity into the master (no chain, no target) to a wav24 file, renders the 3 with `mixfarm render --backend cpu` and
prints the wall time and the stem-realtime factor (stem seconds / wall seconds) per run.
Everything a user's render does is in the time: hashing the stems for the resume sidecars,
decoding, mixing, measuring the mix (loudness, true peak), quantising and writing.

    python3 benches/mixing/run.py [--work /tmp/mixfarm-mixing] [--runs 2]
        [--mixfarm target/release/mixfarm] [--seconds 120]

Not a test and not for CI (it needs ffmpeg and writes ~250 MB of stems); see
benches/RESULTS.md.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time

STEMS = 8
SONGS = 3


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="/tmp/mixfarm-mixing")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--mixfarm", default=os.path.join(root, "target/release/mixfarm"))
    a = ap.parse_args()
    if not os.path.exists(a.mixfarm):
        print(f"no {a.mixfarm}: build it first (cargo build --release)", file=sys.stderr)
        return 2
    stems_dir = os.path.join(a.work, f"stems-{a.seconds}s")
    if not os.path.isdir(stems_dir):
        if shutil.which("ffmpeg") is None:
            print("ffmpeg is needed to generate the stems", file=sys.stderr)
            return 2
        os.makedirs(stems_dir + ".part", exist_ok=True)
        for i in range(1, STEMS + 1):
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y",
                 "-f", "lavfi", "-i", f"anoisesrc=d={a.seconds}:c=pink:r=44100:a=0.1:seed={i}",
                 "-f", "lavfi", "-i", f"sine=f={100 * i}:d={a.seconds}:r=44100",
                 "-filter_complex", "[0][1]amerge=inputs=2,volume=0.3",
                 "-c:a", "pcm_s24le", os.path.join(stems_dir + ".part", f"s{i}.wav")],
                check=True,
            )
        os.rename(stems_dir + ".part", stems_dir)
    stems = sorted(glob.glob(os.path.join(stems_dir, "*.wav")))
    if len(stems) != STEMS:
        print(f"expected {STEMS} stems in {stems_dir}, found {len(stems)}", file=sys.stderr)
        return 2
    scenes = []
    for s in range(1, SONGS + 1):
        path = os.path.join(a.work, f"song{s}.toml")
        lines = ["sample_rate = 44100", "", "[output]", f'file = "song{s}.wav"',
                 'format = "wav24"', ""]
        for i, stem in enumerate(stems, 1):
            rel = os.path.relpath(stem, a.work)
            lines += ["[[track]]", f'name = "t{i}"', f'file = "{rel}"', 'output = "master"', ""]
        with open(path, "w") as f:
            f.write("\n".join(lines))
        scenes.append(path)
    stem_seconds = SONGS * STEMS * a.seconds
    print(f"{SONGS} songs x {STEMS} stereo 24-bit stems x {a.seconds} s = {stem_seconds} s of "
          f"stems, summed at unity; {os.cpu_count()} CPUs")
    print("| run | wall s | stem-realtime x |")
    print("| --- | ---: | ---: |")
    out = os.path.join(a.work, "out")
    for run in range(1, a.runs + 1):
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.monotonic()
        subprocess.run([a.mixfarm, "render", *scenes, "--out", out, "--backend", "cpu"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.monotonic() - t0
        print(f"| {run} | {wall:.2f} | {stem_seconds / wall:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
