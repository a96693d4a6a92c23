//! Catalog manifests and shard assignment (library level): CSV and TOML read into the same
//! sorted catalog, header spellings, ISRC checks, errors naming file and line; shard
//! variables from Slurm, Kubernetes and AWS Batch; albums stay whole and shards balance by
//! duration.

mod common;

use mixfarm::core::{safe_file_name, validate_isrc as normalise_isrc};
use mixfarm::master::manifest::read_manifest;
use mixfarm::master::shard::{assign, resolve, Shard};

use common::{tempdir, write_text};

const CSV: &str = "\
File,Title,Artist,Album,Track Number,ISRC,Gain Offset dB,Fade-Out s
b/2.wav,Second,Ann,Beta,2,gb-abc-26-00002,-1.5,
b/1.wav,First,Ann,Beta,1,GBABC2600001,,3
a/x.wav,Only,Bob,Alpha,,,,
";

const TOML: &str = r#"
[[track]]
file = "b/2.wav"
title = "Second"
artist = "Ann"
album = "Beta"
track = 2
isrc = "GB-ABC-26-00002"
gain_offset_db = -1.5

[[track]]
file = "b/1.wav"
title = "First"
artist = "Ann"
album = "Beta"
track_number = 1
isrc = "GBABC2600001"
fade_out_s = 3.0

[[track]]
file = "a/x.wav"
title = "Only"
artist = "Bob"
album = "Alpha"
"#;

#[test]
fn csv_and_toml_give_the_same_sorted_catalog() {
    let t = tempdir();
    for (name, text) in [("m.csv", CSV), ("m.toml", TOML)] {
        let p = write_text(t.path(), name, text);
        let c = read_manifest(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let titles: Vec<&str> = c.albums.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["Alpha", "Beta"], "{name}");
        let beta = &c.albums[1];
        let order: Vec<&str> = beta.tracks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(order, ["First", "Second"], "{name}: track-number order");
        assert_eq!(beta.tracks[1].isrc.as_deref(), Some("GBABC2600002"));
        assert_eq!(beta.tracks[1].gain_offset_db, -1.5);
        assert_eq!(beta.tracks[0].fade_out_s, Some(3.0));
        assert_eq!(beta.tracks[0].output_stem, "01 - First");
        assert_eq!(
            beta.artist.as_deref(),
            Some("Ann"),
            "shared artist = album artist"
        );
        assert_eq!(beta.tracks[0].file, t.path().join("b/1.wav"));
        assert_eq!(c.albums[0].tracks[0].output_stem, "Only");
        assert_eq!(c.hash.len(), 64);
    }
}

fn manifest_error(name: &str, text: &str) -> String {
    let t = tempdir();
    let p = write_text(t.path(), name, text);
    let e = read_manifest(&p).expect_err("must fail").to_string();
    eprintln!("{e}");
    assert!(e.contains(name), "names the file: {e}");
    e
}

#[test]
fn bad_rows_name_the_line() {
    let head = "file,title,album,track,isrc\n";
    let e = manifest_error("a.csv", &format!("{head}x.wav,X,A,1,GB-ABC-26-1\n"));
    assert!(e.contains(":2:") && e.contains("ISRC"), "{e}");
    let e = manifest_error("b.csv", &format!("{head}x.wav,X,A,1,\ny.wav,Y,A,1,\n"));
    assert!(
        e.contains(":3:") && e.contains("two tracks numbered 1"),
        "{e}"
    );
    let e = manifest_error("d.csv", &format!("{head}x.wav,X,A,1,\nx.wav,Y,A,2,\n"));
    assert!(e.contains(":3:") && e.contains("twice"), "{e}");
    let e = manifest_error("e.toml", "[[track]]\nfile = \"x.wav\"\nfade_in_s = -1\n");
    assert!(e.contains("fade_in_s"), "{e}");
    let e = manifest_error("f.csv", "title\nX\n");
    assert!(e.contains("'file'"), "{e}");
    let e = manifest_error(
        "g.csv",
        &format!("{head}x.wav,X,A,1,GBABC2600001\ny.wav,Y,B,1,GBABC2600001\n"),
    );
    assert!(e.contains("two tracks"), "{e}");
}

#[test]
fn csv_errors_name_the_column_and_the_delimiter() {
    // not "field 3: invalid digit": the column and the value
    let e = manifest_error("t.csv", "file,title,track\nx.wav,X,one\n");
    assert!(
        e.contains(":2:") && e.contains("'track'") && e.contains("'one'"),
        "{e}"
    );
    // a spreadsheet's semicolon export gets a hint
    let e = manifest_error("s.csv", "file;title;track\nx.wav;X;1\n");
    assert!(e.contains("'file'") && e.contains("';'"), "{e}");
}

#[test]
fn extra_csv_columns_are_passed_through_with_a_note() {
    let t = tempdir();
    let p = write_text(
        t.path(),
        "m.csv",
        "file,title,UPC,Notes,track\nx.wav,X,0123456789012,remaster,1\n",
    );
    let cat = read_manifest(&p).expect("a label's extra columns do not stop the run");
    assert_eq!(cat.albums[0].tracks[0].title, "X");
    assert_eq!(cat.albums[0].tracks[0].track_number, Some(1));
    let notes = cat.notes.join("\n");
    assert!(notes.contains("upc") && notes.contains("notes"), "{notes}");
    // kept, as written, for the reports
    assert_eq!(
        cat.albums[0].tracks[0].extra,
        [
            ("UPC".to_string(), "0123456789012".to_string()),
            ("Notes".to_string(), "remaster".to_string())
        ]
    );
}

#[test]
fn toml_keys_mixfarm_does_not_read_are_passed_through_with_a_note() {
    let t = tempdir();
    let p = write_text(
        t.path(),
        "m.toml",
        "[[track]]\nfile = \"x.wav\"\ntitle = \"X\"\nupc = \"0123456789012\"\nbpm = 120\n",
    );
    let cat = read_manifest(&p).expect("extra keys do not stop the run");
    assert_eq!(cat.albums[0].tracks[0].title, "X");
    assert_eq!(
        cat.albums[0].tracks[0].extra,
        [
            ("bpm".to_string(), "120".to_string()),
            ("upc".to_string(), "0123456789012".to_string())
        ]
    );
    let notes = cat.notes.join("\n");
    assert!(notes.contains("upc") && notes.contains("bpm"), "{notes}");
}

#[test]
fn skip_existing_and_force_together_are_refused() {
    let t = tempdir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args(["master", "x.wav", "--out"])
        .arg(t.path().join("o"))
        .args(["--skip-existing", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--skip-existing") && err.contains("--force"),
        "{err}"
    );
}

#[test]
fn isrc_and_file_names() {
    assert_eq!(normalise_isrc("us-s1z-99-00001").unwrap(), "USS1Z9900001");
    assert_eq!(normalise_isrc("USS1Z9900001").unwrap(), "USS1Z9900001");
    for bad in [
        "USS1Z990000",
        "U1S1Z9900001",
        "USS1Z99000AB",
        "",
        "USS1Z99000012",
    ] {
        assert!(normalise_isrc(bad).is_err(), "{bad}");
    }
    assert_eq!(safe_file_name("AC/DC: Live?"), "AC_DC_ Live_");
    assert_eq!(safe_file_name(" ..x.. "), "x");
}

fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn shard_comes_from_the_flag_or_the_scheduler() {
    let none = env_of(&[]);
    assert_eq!(resolve(None, None, &none).unwrap(), None);
    assert_eq!(
        resolve(Some("2/4"), None, &none).unwrap(),
        Some(Shard { index: 2, count: 4 })
    );
    // Slurm: --array=1-4 gives ids 1..4 with MIN 1; the flag wins over the variables.
    let slurm = env_of(&[
        ("SLURM_ARRAY_TASK_ID", "4"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ]);
    assert_eq!(
        resolve(None, None, &slurm).unwrap(),
        Some(Shard { index: 3, count: 4 })
    );
    assert_eq!(
        resolve(Some("0/2"), None, &slurm).unwrap(),
        Some(Shard { index: 0, count: 2 })
    );
    let k8s = env_of(&[("JOB_COMPLETION_INDEX", "5"), ("MIXFARM_SHARDS", "8")]);
    assert_eq!(
        resolve(None, None, &k8s).unwrap(),
        Some(Shard { index: 5, count: 8 })
    );
    let aws = env_of(&[("AWS_BATCH_JOB_ARRAY_INDEX", "1")]);
    assert_eq!(
        resolve(None, Some(3), &aws).unwrap(),
        Some(Shard { index: 1, count: 3 })
    );
    let e = resolve(None, None, &aws).unwrap_err();
    assert!(e.contains("MIXFARM_SHARDS"), "{e}");
    for bad in ["4/4", "x/2", "1", "0/0"] {
        assert!(resolve(Some(bad), None, &none).is_err(), "{bad}");
    }
    assert!(resolve(
        None,
        None,
        &env_of(&[("JOB_COMPLETION_INDEX", "9"), ("MIXFARM_SHARDS", "4")])
    )
    .is_err());
}

#[test]
fn shards_balance_whole_albums_by_duration() {
    let secs = [600.0, 300.0, 300.0, 200.0, 100.0, 100.0];
    let titles = ["a", "b", "c", "d", "e", "f"];
    let of = assign(&secs, &titles, 2);
    let mut load = [0.0; 2];
    for (s, i) in secs.iter().zip(&of) {
        load[*i] += s;
    }
    eprintln!("assignment {of:?}, load {load:?}");
    assert_eq!(load, [800.0, 800.0]);
    assert_eq!(of, assign(&secs, &titles, 2), "deterministic");
    // More shards than albums: the extra shards are empty, nothing is lost.
    let of = assign(&secs[..2], &titles[..2], 4);
    assert_eq!(of, [0, 1]);
}

#[test]
fn render_shards_partition_the_scene_files() {
    use mixfarm::master::shard::scenes_of_shard;
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/demo");
    let scenes: Vec<std::path::PathBuf> = [
        "03-overdrive.toml",
        "01-first-light.toml",
        "02-city-rain.toml",
    ]
    .iter()
    .map(|f| demo.join(f))
    .collect();
    let (all, h) = scenes_of_shard(&scenes, None);
    assert_eq!(all, scenes);
    let mut seen = Vec::new();
    for i in 0..2 {
        let (mine, h2) = scenes_of_shard(&scenes, Some(Shard { index: i, count: 2 }));
        let secs: f64 = mine
            .iter()
            .map(|p| mixfarm::master::shard::scene_seconds(p))
            .sum();
        assert!(
            secs > 20.0,
            "scene durations are read from the stems: {secs}"
        );
        assert_eq!(h, h2, "same input list hash on every shard");
        eprintln!("shard {i}/2: {mine:?}");
        assert!(!mine.is_empty());
        seen.extend(mine);
    }
    seen.sort();
    let mut want = scenes.clone();
    want.sort();
    assert_eq!(seen, want, "every scene file on exactly one shard");
}

#[test]
fn a_manifest_given_as_the_input_is_read_as_a_manifest() {
    let t = tempdir();
    let m = write_text(t.path(), "catalog.csv", "file,title\nmissing.wav,Gone\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .arg(&m)
        .arg("--out")
        .arg(t.path().join("o"))
        .args(["--backend", "cpu"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // the row's file is what fails, not the manifest taken for audio
    assert!(!err.contains("not a recognised audio file"), "{err}");
    assert!(err.contains("missing.wav"), "{err}");
}

#[test]
fn loose_singles_are_not_one_album_in_album_mode() {
    use common::{music_like, write_f32};
    let t = tempdir();
    let d = t.path();
    // two loose files 20 dB apart; a real album (a folder) keeps its songs' relative level
    let quiet: Vec<f32> = music_like(5 * 44_100, 44_100, 1)
        .iter()
        .map(|x| x * 0.05)
        .collect();
    let loud = music_like(5 * 44_100, 44_100, 2);
    write_f32(&d.join("quiet.wav"), &[quiet.clone(), quiet], 44_100);
    write_f32(&d.join("loud.wav"), &[loud.clone(), loud], 44_100);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .arg(d.join("quiet.wav"))
        .arg(d.join("loud.wav"))
        .arg("--out")
        .arg(d.join("o"))
        .args(["--album-mode", "album", "--backend", "cpu"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o/summary.json")).unwrap()).unwrap();
    for song in s["songs"].as_array().unwrap() {
        let i = song["output_loudness"]["integrated_lufs"].as_f64().unwrap();
        let target = song["target_lufs"].as_f64().unwrap();
        println!("{}: {i:.2} LUFS (target {target})", song["title"]);
        assert!(
            (i - target).abs() < 0.5,
            "a single lands on the target on its own: {i}"
        );
        assert_eq!(song["mode"], "track", "singles are mastered as tracks");
    }
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_up_front() {
    use common::{music_like, write_f32};
    let t = tempdir();
    let d = t.path();
    write_f32(&d.join("a.wav"), &[music_like(44_100, 44_100, 5)], 44_100);
    // a file where the folder should be
    std::fs::write(d.join("taken"), b"x").unwrap();
    let run = |cmd: &[&str], out: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mixfarm"))
            .args(cmd)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let a = d.join("a.wav");
    let o = run(
        &["master", a.to_str().unwrap(), "--backend", "cpu"],
        &d.join("taken"),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("taken") && err.contains("not a folder"),
        "{err}"
    );
    assert!(
        !err.contains(".part") && !err.contains("ok "),
        "nothing was mastered first: {err}"
    );
    let scene = write_text(
        d,
        "s.toml",
        "sample_rate = 44100\n[[track]]\nname = \"a\"\nfile = \"a.wav\"\n",
    );
    let o = run(
        &["render", scene.to_str().unwrap(), "--backend", "cpu"],
        &d.join("taken"),
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
