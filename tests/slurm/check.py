#!/usr/bin/env python3
"""Checks a sharded `mixfarm master` output folder against a single-machine reference.

  check.py MANIFEST REF OUT --shards N --deliver a,b --format x,y

- the same set of files in REF and OUT (shard reports and summaries aside): nothing missing,
  nothing extra, no temp files left by a killed worker;
- every song of the manifest exactly once per delivery and format;
- audio and .cue files byte-identical to REF (JSON sidecars: present; their contents may
  name the shard or carry timings, so they are not compared);
- one report per shard, shard-<i>-of-<N>.json for i < N (other files in reports/, such as
  the per-shard CSV, are ignored), and every song in exactly one of them, none failed;
- summary.json (from `mixfarm merge-reports`) naming N shards and no missing/failed ones.
Prints one line per check and exits 1 if any failed.

The report readers are deliberately tolerant of field names (songs list: "songs" or the first
list of objects; a song is matched to the manifest by any field equal to its file, its path's
tail, or its title; "status" containing fail/error counts as failed).
"""
import argparse, csv, filecmp, json, os, re, sys

FORMAT_EXT = {"flac24": ".flac", "flac16": ".flac", "wav16": ".wav", "wav24": ".wav", "wav32f": ".wav"}
AUDIO_EXT = {".flac", ".wav", ".cue"}
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel.split(os.sep)[0] == "reports":
            continue
        for n in names:
            p = os.path.normpath(os.path.join(rel, n))
            if p in ("summary.json", "summary.csv"):
                continue
            out.add(p)
    return out


def songs_of(report):
    if isinstance(report, dict) and isinstance(report.get("songs"), list):
        return report["songs"]
    stack = [report]
    while stack:
        v = stack.pop(0)
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            return v
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return []


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


def song_index(entry, rows):
    vals = set(strings(entry))
    for i, r in enumerate(rows):
        if r["file"] in vals or r["title"] in vals or any(v.endswith("/" + r["file"]) for v in vals):
            return i
    return None


def failed(entry):
    st = str(entry.get("status", entry.get("result", ""))).lower()
    return "fail" in st or "error" in st or entry.get("ok") is False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("ref")
    ap.add_argument("out")
    ap.add_argument("--shards", type=int, required=True)
    ap.add_argument("--deliver", required=True)
    ap.add_argument("--format", required=True)
    a = ap.parse_args()
    with open(a.manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    deliveries, formats = a.deliver.split(","), a.format.split(",")

    ref, out = files_under(a.ref), files_under(a.out)
    temps = sorted(p for p in out if p.endswith(".tmp") or os.path.basename(p).startswith("."))
    check(not temps, f"no temp files left in out/ {temps[:5]}")
    check(ref == out, f"same {len(ref)} files in ref/ and out/"
          + (f" (missing {sorted(ref - out)[:5]}, extra {sorted(out - ref)[:5]})" if ref != out else ""))

    for d in deliveries:
        for fm in formats:
            ext = FORMAT_EXT.get(fm, "." + fm)
            bad = []
            for r in rows:
                folder = os.path.join(a.out, d, r["album"])
                names = os.listdir(folder) if os.path.isdir(folder) else []
                hits = [n for n in names if n.endswith(ext) and os.path.splitext(n)[0].endswith(r["title"])]
                if len(hits) != 1:
                    bad.append(f"{r['title']}: {len(hits)}")
            check(not bad, f"{d}/{fm}: each of {len(rows)} songs exactly once {bad[:5]}")

    audio = sorted(p for p in ref & out if os.path.splitext(p)[1].lower() in AUDIO_EXT)
    differ = [p for p in audio if not filecmp.cmp(os.path.join(a.ref, p), os.path.join(a.out, p), shallow=False)]
    check(bool(audio) and not differ, f"{len(audio)} audio/cue files byte-identical to ref/ {differ[:5]}")

    rdir = os.path.join(a.out, "reports")
    names = sorted(n for n in (os.listdir(rdir) if os.path.isdir(rdir) else [])
                   if re.fullmatch(r"shard-\d+-of-\d+\.json", n))
    want = [f"shard-{i}-of-{a.shards}.json" for i in range(a.shards)]
    check(names == want, f"reports are {want} (found {names})")
    seen = [[] for _ in rows]
    unknown, fails = 0, 0
    for n in names:
        with open(os.path.join(rdir, n)) as f:
            rep = json.load(f)
        for e in songs_of(rep):
            i = song_index(e, rows)
            if i is None:
                unknown += 1
                continue
            seen[i].append(n)
            fails += failed(e)
    # A report may hold one entry per song and delivery: count distinct reports per song.
    multi = [f"{rows[i]['title']}: {sorted(set(s))}" for i, s in enumerate(seen) if len(set(s)) != 1]
    check(not multi and unknown == 0, f"every song in exactly one shard report ({unknown} unmatched) {multi[:5]}")
    check(fails == 0, f"no failed song in the reports ({fails})")

    sp = os.path.join(a.out, "summary.json")
    try:
        with open(sp) as f:
            summary = json.load(f)
    except (OSError, ValueError) as e:
        check(False, f"summary.json readable ({e})")
        summary = None
    if summary is not None:
        bad = {k: v for k, v in summary.items()
               if any(w in k for w in ("missing", "fail", "interrupted")) and v not in (0, [], None, {})}
        check(not bad, f"summary.json: no missing/failed shards {bad}")
        n = next((summary[k] for k in ("shards", "shard_count", "shards_merged", "shards_found") if k in summary), None)
        n = len(n) if isinstance(n, (list, dict)) else n
        check(n == a.shards, f"summary.json: {a.shards} shards (says {n})")
    sys.exit(1 if failures else 0)


main()
