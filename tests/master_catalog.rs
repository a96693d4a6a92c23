//! `mixfarm master` on catalogs (the binary): album files whose gaps are exact to the sample
//! and whose CUE INDEX times land on the rendered track starts; fades of the documented
//! shape; per-track gain offsets; a batch killed mid-way and resumed with `--skip-existing`
//! ends byte-identical to an uninterrupted run; SIGTERM exits 75 and resumes; shards merged
//! equal a single-machine run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{music_like, read_wav, tempdir, write_f32, write_text};

const RATE: u32 = 44_100;
/// Samples per CUE frame at 44.1 kHz (44 100 / 75).
const CUE_FRAME: usize = 588;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mixfarm"))
}

fn run(args: &[&str]) -> (i32, String) {
    let out = bin().args(args).output().expect("runs mixfarm");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{err}");
    (out.status.code().unwrap_or(-1), err)
}

fn song(path: &Path, frames: usize, level: f32, seed: u64) {
    let ch = |s| {
        music_like(frames, RATE, s)
            .iter()
            .map(|x| x * level)
            .collect()
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_f32(path, &[ch(seed), ch(seed + 1)], RATE);
}

/// Three songs of awkward lengths in one album, with a manifest.
fn odd_album(dir: &Path, gap_col: &str) -> (PathBuf, Vec<usize>) {
    let lens = [
        2 * RATE as usize + 123,
        RATE as usize + 587,
        3 * RATE as usize / 2 + 1,
    ];
    let mut m = String::from("file,title,artist,album,track,isrc,gap_s\n");
    for (k, &n) in lens.iter().enumerate() {
        song(
            &dir.join(format!("s{k}.wav")),
            n,
            0.3 / (k + 1) as f32,
            10 + k as u64,
        );
        let gap = if k == 2 { gap_col } else { "" };
        m.push_str(&format!(
            "s{k}.wav,Tune {k},Ann,Odd Lengths,{},GBABC26{:05},{gap}\n",
            k + 1,
            k + 1
        ));
    }
    (write_text(dir, "manifest.csv", &m), lens.to_vec())
}

fn cue_index01(cue: &str) -> Vec<usize> {
    cue.lines()
        .filter_map(|l| l.trim().strip_prefix("INDEX 01 "))
        .map(|t| {
            let p: Vec<usize> = t.split(':').map(|x| x.parse().unwrap()).collect();
            ((p[0] * 60 + p[1]) * 75 + p[2]) * CUE_FRAME
        })
        .collect()
}

#[test]
fn album_file_gaps_and_cue_times_are_exact() {
    let t = tempdir();
    let (m, lens) = odd_album(t.path(), "0.5");
    let out = t.path().join("out");
    let (code, _) = run(&[
        "master",
        "--manifest",
        m.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--sequence",
        "--album-mode",
        "album",
        "--format",
        "wav24",
    ]);
    assert_eq!(code, 0);
    let dir = out.join("streaming/Odd Lengths");
    let (album, spec) = read_wav(&dir.join("sequence/wav24/Odd Lengths.wav"));
    assert_eq!(spec.sample_rate, RATE);
    let cue = std::fs::read_to_string(dir.join("sequence/wav24/Odd Lengths.cue")).unwrap();
    eprintln!("{cue}");
    assert!(cue.contains("FILE \"Odd Lengths.wav\" WAVE") && cue.contains("ISRC GBABC2600002"));
    // Oracle: each start is the previous end plus the gap (2 s, then 0.5 s from the
    // manifest), rounded up to the next CUE frame.
    let gaps = [0.0, 2.0, 0.5];
    let mut starts = Vec::new();
    let mut end = 0usize;
    for (k, &n) in lens.iter().enumerate() {
        let s = if k == 0 {
            0
        } else {
            (end + (gaps[k] * f64::from(RATE)) as usize).div_ceil(CUE_FRAME) * CUE_FRAME
        };
        starts.push(s);
        end = s + n;
    }
    assert_eq!(
        cue_index01(&cue),
        starts,
        "CUE INDEX 01 times = track starts"
    );
    assert_eq!(album[0].len(), end, "album length");
    for (k, (&s, &n)) in starts.iter().zip(&lens).enumerate() {
        let (track, _) = read_wav(&dir.join(format!("{:02} - Tune {k}.wav", k + 1)));
        assert_eq!(track[0].len(), n, "track {k} keeps its length");
        for c in 0..2 {
            assert_eq!(
                &album[c][s..s + n],
                &track[c][..],
                "track {k} sits at frame {s}, sample for sample"
            );
        }
        if k > 0 {
            let prev_end = starts[k - 1] + lens[k - 1];
            let gap = s - prev_end;
            eprintln!(
                "gap before track {}: {gap} frames ({:.4} s, asked {} s)",
                k + 1,
                gap as f64 / f64::from(RATE),
                gaps[k]
            );
            assert!(
                album
                    .iter()
                    .all(|ch| ch[prev_end..s].iter().all(|x| *x == 0.0)),
                "gap is digital silence"
            );
            assert!(
                gap >= (gaps[k] * f64::from(RATE)) as usize
                    && gap < (gaps[k] * f64::from(RATE)) as usize + CUE_FRAME
            );
        }
    }
}

#[test]
fn fades_have_the_documented_shape_keep_the_target_and_offsets_move_it() {
    let t = tempdir();
    song(&t.path().join("a.wav"), 3 * RATE as usize, 0.3, 3);
    song(&t.path().join("b.wav"), 3 * RATE as usize, 0.3, 5);
    let m = write_text(t.path(), "m.toml", "[[track]]\nfile = \"a.wav\"\nalbum = \"F\"\ntrack = 1\n\n[[track]]\nfile = \"b.wav\"\nalbum = \"F\"\ntrack = 2\ngain_offset_db = -3.0\n");
    // a chain without a limiter: loudness is linear in the gain, so the faded song is the
    // plain one times one constant and the fade curve
    let eq_only = write_text(t.path(), "eq-only.toml", "target_lufs = -14.0\nceiling_dbtp = -1.0\n[[chain]]\ntype = \"eq\"\nmode = \"minimum_phase\"\nbands = [ { kind = \"high_pass\", freq_hz = 30, slope_db_per_oct = 12 } ]\n");
    let (plain, faded) = (t.path().join("plain"), t.path().join("faded"));
    for (o, extra) in [
        (&plain, vec![]),
        (&faded, vec!["--fade-in", "0.5", "--fade-out", "1.0"]),
    ] {
        let mut args = vec![
            "master",
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            o.to_str().unwrap(),
            "--format",
            "wav32f",
            "--deliver",
        ];
        let deliver = format!("streaming,{}", eq_only.display());
        args.push(&deliver);
        args.extend(extra);
        assert_eq!(run(&args).0, 0);
    }
    let (x, _) = read_wav(&plain.join("eq-only/F/01 - a.wav"));
    let (y, _) = read_wav(&faded.join("eq-only/F/01 - a.wav"));
    let (n_in, n_out) = (RATE as usize / 2, RATE as usize);
    let frames = x[0].len();
    // the constant: least squares over the unfaded middle
    let (mut xy, mut xx) = (0.0f64, 0.0f64);
    for c in 0..2 {
        for i in n_in..frames - n_out {
            xy += f64::from(x[c][i]) * f64::from(y[c][i]);
            xx += f64::from(x[c][i]) * f64::from(x[c][i]);
        }
    }
    let k = xy / xx;
    let mut worst = 0.0f64;
    for c in 0..2 {
        for i in 0..frames {
            let g = if i < n_in {
                (std::f64::consts::FRAC_PI_2 * i as f64 / n_in as f64).sin()
            } else if i >= frames - n_out {
                (std::f64::consts::FRAC_PI_2 * (frames - 1 - i) as f64 / n_out as f64).sin()
            } else {
                1.0
            };
            worst = worst.max((f64::from(x[c][i]) * k * g - f64::from(y[c][i])).abs());
        }
    }
    eprintln!("fade shape: faded = plain × {k:.4} × sin curve within {worst:.2e}");
    // f32 products rounded twice: a few f32 ulps at full scale
    assert!(worst < 1e-6, "{worst}");
    let l = |p: &Path| {
        mixfarm::analyze::analyze_file(p)
            .unwrap()
            .integrated_lufs
            .unwrap()
    };
    for (dir, what) in [(&plain, "plain"), (&faded, "faded")] {
        // the preset with a limiter: faded or not, the song lands on its target
        {
            let delivery = "streaming";
            let (la, lb) = (
                l(&dir.join(format!("{delivery}/F/01 - a.wav"))),
                l(&dir.join(format!("{delivery}/F/02 - b.wav"))),
            );
            eprintln!("{what} {delivery}, track mode with a −3 dB offset: {la:.3} / {lb:.3} LUFS");
            assert!((la + 14.0).abs() < 0.1 && (lb + 17.0).abs() < 0.1);
        }
    }
}

fn audio_files(dir: &Path) -> Vec<PathBuf> {
    common::tree_files(dir)
        .into_iter()
        .filter(|p| !matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "csv")))
        .collect()
}

fn assert_same_outputs(a: &Path, b: &Path) {
    let (fa, fb) = (audio_files(a), audio_files(b));
    assert_eq!(fa, fb, "same files");
    for f in &fa {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{} differs",
            f.display()
        );
    }
    eprintln!("{} files byte-identical", fa.len());
}

fn catalog(dir: &Path) -> PathBuf {
    catalog_of(dir, 2)
}

/// A synthetic catalog of `albums` albums of four 3 s songs.
fn catalog_of(dir: &Path, albums: u32) -> PathBuf {
    let albums = albums.to_string();
    let (code, _) = run(&[
        "synth-catalog",
        dir.to_str().unwrap(),
        "--albums",
        &albums,
        "--songs-per-album",
        "4",
        "--seconds",
        "3",
    ]);
    assert_eq!(code, 0);
    dir.join("manifest.csv")
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn summary(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
}

/// Song sidecars under `dir` that record a finished song (a provisional sidecar, written
/// before the song's audio, says `failed` until the final one replaces it).
fn finished_songs(dir: &Path) -> usize {
    common::tree_files(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| std::fs::read_to_string(dir.join(p)).ok())
        .filter(|t| t.contains("\"status\": \"ok\"") || t.contains("\"status\": \"warning\""))
        .count()
}

/// Starts `master`, waits for its first finished song (a final sidecar), then sends `signal`.
fn interrupt(args: &[&str], out: &Path, signal: &str) -> i32 {
    let mut child = bin().args(args).stderr(Stdio::null()).spawn().unwrap();
    let t0 = Instant::now();
    while finished_songs(out) == 0 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap().code().unwrap_or(-1)
}

#[test]
fn killed_batch_resumes_byte_identical() {
    let t = tempdir();
    let m = catalog(&t.path().join("cat"));
    let full = t.path().join("full");
    let cut = t.path().join("cut");
    let common = [
        "--manifest",
        m.to_str().unwrap(),
        "--deliver",
        "streaming,broadcast",
        "--format",
        "wav24",
    ];
    let args = |o: &Path, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["master", "--out", o.to_str().unwrap()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(common.iter().map(|s| s.to_string()));
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    assert_eq!(run(&refs(&args(&full, &[]))).0, 0);
    let code = interrupt(&refs(&args(&cut, &[])), &cut, "-KILL");
    eprintln!("killed run: exit {code}");
    let (code, _) = run(&refs(&args(&cut, &["--skip-existing"])));
    assert_eq!(code, 0);
    let s = summary(&cut, "summary.json");
    eprintln!("resumed: {} mastered, {} skipped", s["ok"], s["skipped"]);
    assert!(
        s["skipped"].as_u64().unwrap() >= 1,
        "the resumed run skipped the finished songs"
    );
    assert!(s["ok"].as_u64().unwrap() >= 1, "and redid the rest");
    assert_same_outputs(&full, &cut);
    // Nothing left to do; --force redoes all; a changed setting is refused before any
    // work (the files were made otherwise) unless --overwrite, which redoes all.
    run(&refs(&args(&cut, &["--skip-existing"])));
    assert_eq!(summary(&cut, "summary.json")["skipped"], 16);
    run(&refs(&args(&cut, &["--force"])));
    assert_eq!(summary(&cut, "summary.json")["ok"], 16);
    assert_same_outputs(&full, &cut);
    let (code, _) = run(&refs(&args(&cut, &["--skip-existing", "--ceiling", "-2"])));
    assert_eq!(
        code, 2,
        "outputs made with another ceiling are not replaced silently"
    );
    assert_same_outputs(&full, &cut);
    let (code, _) = run(&refs(&args(&cut, &["--overwrite", "--ceiling", "-2"])));
    assert_eq!(code, 0);
    assert_eq!(summary(&cut, "summary.json")["ok"], 16);
}

#[test]
fn sigterm_exits_75_and_the_rerun_completes() {
    let t = tempdir();
    // The signal goes out once the first album's songs are on disk; three more albums keep
    // the run busy long past the signal's arrival (with a second album only, a fast run
    // could finish it before the signal and rightly exit 0).
    let m = catalog_of(&t.path().join("cat"), 4);
    let (full, cut) = (t.path().join("full"), t.path().join("cut"));
    let a = |o: &Path| -> Vec<String> {
        [
            "master",
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            o.to_str().unwrap(),
            "--album-mode",
            "album",
            "--sequence",
            "--skip-existing",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    assert_eq!(run(&refs(&a(&full))).0, 0);
    let code = interrupt(&refs(&a(&cut)), &cut, "-TERM");
    eprintln!("SIGTERM: exit {code}");
    assert_eq!(code, 75);
    let s = summary(&cut, "summary.json");
    assert_eq!(s["interrupted"], true);
    // Songs finished before the signal (their sidecar is on disk) are not rewritten by the
    // resumed run, although their album is computed again (album gain, album file).
    use std::os::unix::fs::MetadataExt;
    let stamp = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.ino(), m.mtime_nsec(), m.mtime())
    };
    let finished: Vec<(PathBuf, (u64, i64, i64))> = audio_files(&cut)
        .into_iter()
        .map(|f| cut.join(f))
        .filter(|p| p.extension().is_some_and(|e| e == "wav") && p.with_extension("json").exists())
        .map(|p| {
            let s = stamp(&p);
            (p, s)
        })
        .collect();
    eprintln!("{} songs finished before SIGTERM", finished.len());
    assert_eq!(run(&refs(&a(&cut))).0, 0);
    assert_same_outputs(&full, &cut);
    for (p, s) in &finished {
        assert_eq!(stamp(p), *s, "{} was rewritten", p.display());
    }
}

#[test]
fn shards_merged_equal_a_single_run() {
    let t = tempdir();
    let m = catalog(&t.path().join("cat"));
    let (single, sharded) = (t.path().join("single"), t.path().join("sharded"));
    let base = [
        "--manifest",
        m.to_str().unwrap(),
        "--album-mode",
        "album",
        "--sequence",
        "--deliver",
        "streaming,broadcast",
    ];
    let mut a = vec!["master", "--out", single.to_str().unwrap()];
    a.extend(base);
    assert_eq!(run(&a).0, 0);
    let (_, err) = run(&["merge-reports", sharded.to_str().unwrap()]);
    assert!(err.contains("error"), "nothing to merge yet");
    for i in 0..3 {
        let mut a = vec!["master", "--out", sharded.to_str().unwrap()];
        a.extend(base);
        let id = i.to_string();
        let out = bin()
            .args(&a)
            .env("SLURM_ARRAY_TASK_ID", &id)
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if i == 1 {
            let (code, err) = run(&["merge-reports", sharded.to_str().unwrap()]);
            assert_eq!(code, 1);
            assert!(err.contains("shard 2/3 has no report"), "{err}");
        }
    }
    let (code, _) = run(&["merge-reports", sharded.to_str().unwrap()]);
    assert_eq!(code, 0);
    let s = summary(&sharded, "summary.json");
    assert_eq!(s["total"], 16);
    assert_eq!(s["shards_merged"].as_array().unwrap().len(), 3);
    assert_same_outputs(&single, &sharded);
}

#[test]
fn plan_splits_by_audio_minutes() {
    let t = tempdir();
    let m = catalog(&t.path().join("cat"));
    let out = bin()
        .args(["plan", m.to_str().unwrap(), "--shards", "2", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("{v}");
    let shards = v["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 2);
    for s in shards {
        assert_eq!(s["songs"], 4);
        assert!(
            (s["audio_minutes"].as_f64().unwrap() - 0.2).abs() < 1e-9,
            "4 songs × 3 s"
        );
    }
}

#[test]
fn per_track_preset_and_a_missing_file() {
    let t = tempdir();
    for k in 0..2 {
        song(
            &t.path().join(format!("s{k}.wav")),
            RATE as usize * 2,
            0.3,
            40,
        );
    }
    // A preset that folds the stereo image to mono: its effect is plain to see (L = R).
    write_text(t.path(), "mono.toml", "[[chain]]\ntype = \"width\"\nwidth = 0.0\n[[chain]]\ntype = \"limiter\"\nceiling_dbtp = -1.0\nrelease_ms = 100\nlookahead_ms = 5\n");
    let m = write_text(t.path(), "m.csv", "file,title,album,track,preset\ns0.wav,Wide,P,1,\ns1.wav,Narrow,P,2,mono.toml\ngone.wav,Gone,P,3,\n");
    let out = t.path().join("out");
    let (code, err) = run(&[
        "master",
        "--manifest",
        m.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "wav32f",
    ]);
    assert_eq!(code, 1, "one song failed, the others were written");
    assert!(
        err.contains("gone.wav"),
        "the failure names the file: {err}"
    );
    assert!(err.contains("m.csv:4"), "and its manifest line: {err}");
    let (wide, _) = read_wav(&out.join("streaming/P/01 - Wide.wav"));
    let (narrow, _) = read_wav(&out.join("streaming/P/02 - Narrow.wav"));
    let side = |x: &Vec<Vec<f32>>| {
        x[0].iter()
            .zip(&x[1])
            .map(|(l, r)| f64::from((l - r).abs()))
            .fold(0.0, f64::max)
    };
    eprintln!(
        "max |L − R|: default chain {:.3e}, track preset mono.toml {:.3e}",
        side(&wide),
        side(&narrow)
    );
    assert!(side(&wide) > 0.01 && side(&narrow) < 1e-6);
    let s = summary(&out, "summary.json");
    assert_eq!((s["ok"].as_u64(), s["failed"].as_u64()), (Some(2), Some(1)));
    // An unknown per-track preset is a manifest error naming the line (exit 2).
    let bad = write_text(
        t.path(),
        "bad.csv",
        "file,album,track,preset\ns0.wav,P,1,nosuch\n",
    );
    let (code, err) = run(&[
        "master",
        "--manifest",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.csv:2:") && err.contains("nosuch"),
        "{err}"
    );
}
