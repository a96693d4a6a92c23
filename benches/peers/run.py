#!/usr/bin/env python3
"""Side-by-side: mixfarm, ffmpeg and pedalboard + pyloudnorm render the same mastering chain
over the same generated catalog (whole batch, decode and encode included), and one
independent meter (ffmpeg's ebur128 filter, peak=true) measures every output.

Not a test and not for CI: it installs software (ffmpeg via apt-get, a Python venv with
pedalboard, pyloudnorm, soundfile, numpy) and it refuses to run when $CI is set.
See benches/peers/README.md.

    python3 benches/peers/run.py [--work /tmp/mixfarm-peers] [--albums 2]
        [--songs-per-album 3] [--seconds 60] [--runs 2] [--jobs 2]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
IR_SECONDS = 2.35
IR_NAME = "hall_ir.wav"
WET = 0.15
PB_LIMITERS = {
    "brickwall": "BrickwallLimiter(-1 dB, 100 ms, lookahead 5 ms, true_peak=True)",
    "brickwall-sample": "BrickwallLimiter(-1 dB, 100 ms, lookahead 5 ms, sample peaks)",
    "juce": "Limiter(-1 dB, 100 ms) (JUCE: makeup gain, clip at 0 dBFS)",
}
PY_PACKAGES = ["pedalboard", "pyloudnorm", "soundfile", "numpy"]


def log(msg: str) -> None:
    print(f"[peers] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, **kw)
    if p.returncode != 0:
        err = p.stderr[-3000:] if isinstance(p.stderr, str) else ""
        raise RuntimeError(f"exit {p.returncode}: {' '.join(cmd)}\n{err}")
    return p


# ---------------------------------------------------------------- installs


def ensure_ffmpeg(no_install: bool) -> None:
    if shutil.which("ffmpeg"):
        return
    if no_install:
        sys.exit("ffmpeg is missing (and --no-install was given)")
    log("ffmpeg missing: installing it with apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    run(sudo + ["apt-get", "update"])
    run(sudo + ["apt-get", "install", "-y", "--no-install-recommends", "ffmpeg"])


def ensure_venv(work: Path, no_install: bool) -> Path | None:
    """The venv's python with the pedalboard side's packages, or None (said why)."""
    venv = work / "venv"
    py = venv / "bin" / "python"
    probe = "import pedalboard, pyloudnorm, soundfile, numpy"
    if py.exists() and subprocess.run([str(py), "-c", probe]).returncode == 0:
        return py
    if no_install:
        log("pedalboard venv missing and --no-install given: pedalboard is left out")
        return None
    log(f"installing {' '.join(PY_PACKAGES)} into {venv}")
    try:
        if not py.exists():
            run([sys.executable, "-m", "venv", str(venv)])
        run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q"] + PY_PACKAGES)
        run([str(py), "-c", probe])
    except (RuntimeError, OSError) as e:
        log(f"pedalboard side could not be installed ({e}): it is left out")
        return None
    return py


def ensure_mixfarm(path: Path | None) -> Path:
    exe = path or REPO / "target" / "release" / "mixfarm"
    if not exe.exists():
        if path:
            sys.exit(f"{exe} does not exist")
        log("building mixfarm (cargo build --release)")
        run(["cargo", "build", "--release"], cwd=REPO)
    return exe


# ---------------------------------------------------------------- inputs


def make_catalog(mixfarm: Path, work: Path, albums: int, songs: int, seconds: float) -> Path:
    cat = work / f"catalog-{albums}x{songs}x{seconds:g}s-loud"
    manifest = cat / "manifest.csv"
    if not manifest.exists():
        log(f"writing the catalog into {cat}")
        tmp = cat.with_name(cat.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        run([str(mixfarm), "synth-catalog", str(tmp), "--albums", str(albums),
             "--songs-per-album", str(songs), "--seconds", f"{seconds:g}", "--loud"])
        shutil.rmtree(cat, ignore_errors=True)
        tmp.rename(cat)
    return manifest


def catalog_files(manifest: Path) -> list[Path]:
    with manifest.open(newline="") as f:
        return [manifest.parent / row["file"] for row in csv.DictReader(f)]


def wav_info(path: Path) -> tuple[int, float]:
    """(sample rate, seconds) of an audio file, by ffprobe (the catalog's WAVs are
    WAVE_FORMAT_EXTENSIBLE, which Python's wave module refuses)."""
    p = run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
             "stream=sample_rate,duration_ts", "-of", "csv=p=0", str(path)],
            capture_output=True, text=True)
    rate, frames = (int(v) for v in p.stdout.strip().split(","))
    return rate, frames / rate


def write_float_wav(path: Path, rate: int, channels: list[list[float]]) -> None:
    n = len(channels[0])
    data = bytearray()
    for i in range(n):
        for ch in channels:
            data += struct.pack("<f", ch[i])
    nch = len(channels)
    fmt = struct.pack("<HHIIHH", 3, nch, rate, rate * nch * 4, nch * 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + bytes(data)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def make_ir(path: Path, rate: int) -> None:
    """Deterministic synthetic stereo hall: sparse early reflections (5–80 ms) into an
    exponentially decaying, progressively darker noise tail (RT60 2.0 s), 2.35 s long,
    the two channels independent (decorrelated), each normalised to unit energy
    (sum of squares = 1)."""
    n = round(IR_SECONDS * rate)
    rt60 = 2.0
    chans = []
    for c in range(2):
        rng = random.Random(0x4841_4C4C + c)
        x = [0.0] * n
        for _ in range(24):  # early reflections
            t = rng.uniform(0.005, 0.080)
            i = int(t * rate)
            x[i] += rng.choice((-1, 1)) * 0.6 * math.exp(-t / 0.06)
        lp = 0.0
        for i in range(n):
            t = i / rate
            env = math.exp(-6.907755 * t / rt60)
            onset = min(1.0, t / 0.03)  # tail builds up over 30 ms
            a = 0.15 + 0.8 * min(1.0, t / IR_SECONDS)  # one-pole low-pass, darker with time
            lp = (1 - a) * rng.gauss(0.0, 1.0) + a * lp
            x[i] += 0.25 * lp * env * onset
        fade = round(0.010 * rate)  # last 10 ms faded to zero
        for k in range(fade):
            x[n - 1 - k] *= k / fade
        e = math.sqrt(sum(v * v for v in x))
        chans.append([v / e for v in x])
    write_float_wav(path, rate, chans)


# ---------------------------------------------------------------- the three tools


def render_mixfarm(mixfarm: Path, manifest: Path, preset: Path, out: Path) -> list[Path]:
    run([str(mixfarm), "master", "--manifest", str(manifest), "--out", str(out),
         "--preset", str(preset), "--backend", "cpu", "--format", "wav24",
         "--album-mode", "track", "--quiet"], stdout=subprocess.DEVNULL)
    return sorted(out.rglob("*.wav"))


def ffmpeg_chain(ir_input: int) -> str:
    """The chain up to (not including) the loudness gain, as one filter graph on input 0
    with the IR as input `ir_input`."""
    return (
        "[0:a]highpass=f=30:poles=2:width_type=q:width=0.7071,"
        "equalizer=f=100:width_type=q:width=1:g=2,"
        "equalizer=f=400:width_type=q:width=1:g=-3,"
        "highshelf=f=8000:g=2:width_type=q:width=0.7071,"
        "asplit=2[dry][wetin];"
        # afir (ffmpeg 5.1): gtype=none turns the IR's auto gain off; a stereo IR is still
        # scaled ×2 (measured with deltas: 0.5 · δ·0.25 came out 0.25), so irgain=0.5 makes
        # the wet exactly the convolution with the unit-energy IR, channel by channel
        f"[wetin][{ir_input}:a]afir=gtype=none:irgain=0.5:dry=1:wet=1[wet];"
        f"[dry][wet]amix=inputs=2:weights='{1 - WET:g} {WET:g}':normalize=0:duration=first,"
        "acompressor=threshold=-18dB:ratio=3:attack=10:release=100:knee=1:detection=peak"
    )


FF = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-y",
      "-filter_threads", "1", "-filter_complex_threads", "1"]


def ffmpeg_one(src: Path, ir: Path, dst: Path) -> None:
    # pass 1: loudness of the chain's output, before the gain
    p = run(FF + ["-i", str(src), "-i", str(ir), "-filter_complex",
                  ffmpeg_chain(1) + ",ebur128=framelog=verbose", "-f", "null", "-"],
            capture_output=True, text=True)
    i_pre = parse_ebur128(p.stderr)[0]
    gain = TARGET_LUFS - i_pre
    limit = 10 ** (CEILING_DBTP / 20)
    # pass 2: the chain, the gain, the limiter, 24-bit WAV
    run(FF + ["-i", str(src), "-i", str(ir), "-filter_complex",
              ffmpeg_chain(1) + f",volume={gain:.3f}dB,"
              f"alimiter=limit={limit:.6f}:attack=5:release=100:level=disabled:latency=1",
              "-c:a", "pcm_s24le", str(dst)],
        capture_output=True, text=True)


def render_ffmpeg(files: list[Path], ir: Path, out: Path, jobs: int) -> list[Path]:
    out.mkdir(parents=True)
    dsts = [out / f"{k:03d} {f.name}" for k, f in enumerate(files)]
    with cf.ThreadPoolExecutor(jobs) as ex:
        list(ex.map(lambda sd: ffmpeg_one(*sd), [(s, ir, d) for s, d in zip(files, dsts)]))
    return dsts


def render_pedalboard(py: Path, files: list[Path], ir: Path, out: Path, jobs: int,
                      limiter: str) -> list[Path]:
    out.mkdir(parents=True)
    dsts = [out / f"{k:03d} {f.name}" for k, f in enumerate(files)]
    args = [str(py), str(Path(__file__).resolve()), "--pedalboard-worker", str(ir), str(jobs), limiter]
    for s, d in zip(files, dsts):
        args += [str(s), str(d)]
    run(args)
    return dsts


def pedalboard_one(job: tuple[str, str, str]) -> None:
    import numpy as np
    import pyloudnorm
    import soundfile
    from pedalboard import (BrickwallLimiter, Chain, Compressor, Convolution, Gain,
                            HighpassFilter, HighShelfFilter, Limiter, Mix, Pedalboard,
                            PeakFilter)

    src, dst, ir, limiter = job
    x, sr = soundfile.read(src, dtype="float32", always_2d=True)
    board = Pedalboard([
        # pedalboard's HighpassFilter is first order (6 dB/oct; its docstring says so): it
        # has no 2nd-order Butterworth high-pass, so this stage is not the same filter
        HighpassFilter(cutoff_frequency_hz=30),
        PeakFilter(cutoff_frequency_hz=100, gain_db=2, q=1),
        PeakFilter(cutoff_frequency_hz=400, gain_db=-3, q=1),
        HighShelfFilter(cutoff_frequency_hz=8000, gain_db=2, q=0.7071),
        # Convolution(ir, mix=0.15) would be wrong by 18 dB on the wet: JUCE normalises the
        # IR to 0.125 / sqrt(max channel energy) (measured: wet = 0.125 · IR for our
        # unit-energy IR). So: dry 0.85 in parallel with the 100 % wet convolution × 0.15 × 8,
        # checked against numpy's convolution to 4e-6.
        Mix([Gain(gain_db=20 * math.log10(1 - WET)),
             Chain([Convolution(ir, mix=1.0), Gain(gain_db=20 * math.log10(WET * 8))])]),
        Compressor(threshold_db=-18, ratio=3, attack_ms=10, release_ms=100),
    ])
    y = board(x.T.copy(), sr)
    i_pre = pyloudnorm.Meter(sr).integrated_loudness(y.T.astype(np.float64))
    y = y * np.float32(10 ** ((TARGET_LUFS - i_pre) / 20))
    if limiter == "juce":  # JUCE's dsp::Limiter: adds makeup gain, hard clip at 0 dBFS
        lim = Limiter(threshold_db=CEILING_DBTP, release_ms=100)
    else:  # lookahead brick wall, no makeup; "brickwall" detects true peaks (4x)
        lim = BrickwallLimiter(ceiling_db=CEILING_DBTP, release_ms=100, lookahead_ms=5,
                               true_peak=(limiter == "brickwall"))
    y = Pedalboard([lim])(y, sr)
    soundfile.write(dst, y.T, sr, subtype="PCM_24")


def pedalboard_worker(argv: list[str]) -> None:
    import multiprocessing as mp

    ir, jobs, limiter, rest = argv[0], int(argv[1]), argv[2], argv[3:]
    work = [(rest[k], rest[k + 1], ir, limiter) for k in range(0, len(rest), 2)]
    with mp.Pool(jobs) as pool:
        pool.map(pedalboard_one, work, chunksize=1)


# ---------------------------------------------------------------- the meter


def parse_ebur128(stderr: str) -> tuple[float, float | None]:
    """(integrated LUFS, true peak dBTP or None) from the ebur128 filter's summary."""
    summary = stderr[stderr.rfind("Summary:"):]
    m = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    if not m:
        raise RuntimeError("no ebur128 summary in ffmpeg's output:\n" + stderr[-2000:])
    tp = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return float(m.group(1)), (float(tp.group(1)) if tp else None)


def measure(path: Path) -> tuple[float, float]:
    """The one independent meter for every tool's outputs: ffmpeg's ebur128 filter,
    peak=true (true peak at its default 4× oversampling). Printed to 0.1 LU / 0.1 dB."""
    p = run(["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", str(path),
             "-filter_complex", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
            capture_output=True, text=True)
    i, tp = parse_ebur128(p.stderr)
    assert tp is not None
    return i, tp


# ---------------------------------------------------------------- main


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--pedalboard-worker":
        pedalboard_worker(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mixfarm-peers"),
                    help="work folder: catalog, IR, venv, outputs (default %(default)s)")
    ap.add_argument("--albums", type=int, default=2)
    ap.add_argument("--songs-per-album", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=2, help="runs per tool (default 2)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="songs at once for ffmpeg and pedalboard (default 2)")
    ap.add_argument("--mixfarm", type=Path, help="mixfarm binary (default target/release/mixfarm, built if missing)")
    ap.add_argument("--pb-limiter", choices=["brickwall", "brickwall-sample", "juce"],
                    default="brickwall",
                    help="pedalboard's limiter: BrickwallLimiter with true_peak=True (default), "
                         "the same with sample-peak detection, or JUCE's Limiter (makeup gain, "
                         "clip at 0 dBFS: no ceiling)")
    ap.add_argument("--tools", default="mixfarm,ffmpeg,pedalboard")
    ap.add_argument("--no-install", action="store_true", help="install nothing")
    a = ap.parse_args()
    if os.environ.get("CI"):
        log("$CI is set: this comparison installs software and is not run in CI; stopping")
        return

    work = a.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    ensure_ffmpeg(a.no_install)
    py = ensure_venv(work, a.no_install) if "pedalboard" in tools else None
    if py is None and "pedalboard" in tools:
        tools.remove("pedalboard")
    mixfarm = ensure_mixfarm(a.mixfarm.resolve() if a.mixfarm else None)

    manifest = make_catalog(mixfarm, work, a.albums, a.songs_per_album, a.seconds)
    files = catalog_files(manifest)
    infos = [wav_info(f) for f in files]
    rate = infos[0][0]
    audio_s = sum(s for _, s in infos)
    ir = work / IR_NAME
    if not ir.exists():
        make_ir(ir, rate)
    preset = work / "chain.toml"  # next to the IR: its `ir` is relative to the file
    shutil.copyfile(HERE / "chain.toml", preset)
    log(f"{len(files)} songs, {audio_s:.1f} s of audio at {rate} Hz; IR {ir}")

    rows = []
    for r in range(1, a.runs + 1):
        for tool in tools:
            out = work / "out" / f"{tool}-{r}"
            shutil.rmtree(out, ignore_errors=True)
            log(f"run {r}: {tool}")
            t0 = time.perf_counter()
            if tool == "mixfarm":
                outs = render_mixfarm(mixfarm, manifest, preset, out)
            elif tool == "ffmpeg":
                outs = render_ffmpeg(files, ir, out, a.jobs)
            elif tool == "pedalboard":
                outs = render_pedalboard(py, files, ir, out, a.jobs, a.pb_limiter)
            else:
                sys.exit(f"unknown tool {tool}")
            wall = time.perf_counter() - t0
            if len(outs) != len(files):
                sys.exit(f"{tool} wrote {len(outs)} files for {len(files)} songs")
            with cf.ThreadPoolExecutor(2) as ex:
                m = list(ex.map(measure, outs))
            rows.append((tool, r, wall, audio_s / wall,
                         max(abs(i - TARGET_LUFS) for i, _ in m),
                         min(i for i, _ in m), max(i for i, _ in m),
                         max(tp for _, tp in m)))

    print()
    print(f"{len(files)} songs x {a.seconds:g} s ({audio_s:.0f} s of audio, {rate} Hz stereo); "
          f"target {TARGET_LUFS} LUFS, ceiling {CEILING_DBTP} dBTP; peers {a.jobs} songs at once, "
          f"mixfarm --backend cpu with its own threads ({os.cpu_count()} cores); "
          f"pedalboard limiter: {PB_LIMITERS[a.pb_limiter]}")
    print("meter: ffmpeg ebur128 filter, peak=true (true peak at its default 4x oversampling), "
          "printed to 0.1 LU / 0.1 dB")
    print()
    print("| tool | run | wall s | realtime x | worst abs(I - target) LU | I range LUFS | worst true peak dBTP |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for tool, r, wall, rtf, worst, lo, hi, tp in rows:
        print(f"| {tool} | {r} | {wall:.2f} | {rtf:.1f} | {worst:.1f} | {lo:.1f} … {hi:.1f} | {tp:+.1f} |")


if __name__ == "__main__":
    main()
