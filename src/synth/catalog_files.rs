//! A small mastering catalog on disk for tests, demos and the cluster test: `albums` albums
//! of `songs_per_album` stereo songs (24-bit WAV, each a mixdown of the benchmark catalog's
//! stems at its own level, or with `loud` driven into a soft clipper like a finished master),
//! plus `manifest.csv` (file, title, artist, album, track, isrc). Deterministic: the same
//! arguments give the same bytes. CPU only; mirrors no shader.

use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;

use super::dsp::db_to_gain;
use crate::error::{Error, Result};

/// Stems mixed into each catalog song.
const STEMS: usize = 4;
/// Sample rate of the catalog songs.
pub const CATALOG_RATE: u32 = 44_100;

/// Album titles, cycled.
const ALBUMS: [&str; 4] = [
    "Harbour Lights",
    "Paper Moons",
    "Slow Rivers",
    "Glass Garden",
];

/// Drive into the soft clipper of a `loud` catalog song, dB above its peak at 0 dBFS.
pub const LOUD_DRIVE_DB: f64 = 3.0;
/// Ceiling of that clipper, linear (−0.2 dBFS).
const LOUD_CEILING: f64 = 0.977;

/// Writes the catalog into `dir`; returns the manifest path. `loud`: every song is driven
/// [`LOUD_DRIVE_DB`] into a `tanh` soft clipper under −0.2 dBFS (dense and loud, as finished
/// masters are) instead of sitting at its own peak level.
pub fn write_catalog(
    dir: &Path,
    albums: usize,
    songs_per_album: usize,
    seconds: f64,
    loud: bool,
) -> Result<std::path::PathBuf> {
    let n = albums * songs_per_album;
    let songs = super::catalog(n, STEMS, seconds, CATALOG_RATE, 0x6d61_7374);
    let mut manifest = String::from("file,title,artist,album,track,isrc\n");
    let mut jobs = Vec::new();
    for (i, stems) in songs.into_iter().enumerate() {
        let (a, k) = (i / songs_per_album, i % songs_per_album);
        let album = if a < ALBUMS.len() {
            ALBUMS[a].to_string()
        } else {
            format!("{} {}", ALBUMS[a % ALBUMS.len()], a / ALBUMS.len() + 1)
        };
        let title = format!("Song {}", i + 1);
        let file = format!(
            "{}/{:02} {}.wav",
            super::super::master::manifest::safe_file_name(&album),
            k + 1,
            title
        );
        let _ = writeln!(
            manifest,
            "{file},{title},Catalog Band {},{album},{},ZZ-MXF-26-{:05}",
            a + 1,
            k + 1,
            i + 1
        );
        // Songs sit at different levels (−24 … −6 dBFS peaks) so mastering has work to do.
        let peak_db = -6.0 - 18.0 * ((i * 7) % 10) as f64 / 9.0;
        jobs.push((dir.join(file), stems, peak_db));
    }
    jobs.par_iter().try_for_each(|(path, stems, peak_db)| {
        let frames = stems[0][0].len();
        let mut mix = vec![vec![0.0f64; frames]; 2];
        for s in stems {
            for (c, m) in mix.iter_mut().enumerate() {
                let ch = &s[c.min(s.len() - 1)];
                for (o, x) in m.iter_mut().zip(ch) {
                    *o += f64::from(*x);
                }
            }
        }
        let peak = mix
            .iter()
            .flatten()
            .fold(0.0f64, |p, x| p.max(x.abs()))
            .max(1e-9);
        if loud {
            let drive = db_to_gain(LOUD_DRIVE_DB) / peak;
            for x in mix.iter_mut().flatten() {
                *x = LOUD_CEILING * (*x * drive / LOUD_CEILING).tanh();
            }
            return write_wav24(path, &mix, 1.0);
        }
        let g = db_to_gain(*peak_db) / peak;
        write_wav24(path, &mix, g)
    })?;
    let m = dir.join("manifest.csv");
    std::fs::write(&m, manifest).map_err(|e| Error::io(&m, e))?;
    Ok(m)
}

fn write_wav24(path: &Path, mix: &[Vec<f64>], gain: f64) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: CATALOG_RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| Error::Output {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for f in 0..mix[0].len() {
        for ch in mix {
            let v = (ch[f] * gain * 8_388_608.0)
                .round()
                .clamp(-8_388_608.0, 8_388_607.0);
            w.write_sample(v as i32).map_err(err)?;
        }
    }
    w.finalize().map_err(err)
}
