//! A deterministic benchmark catalog: many songs × many stems of any length, generated
//! quickly. Each stem renders one 4-bar loop with the demo instruments and tiles it (with a
//! little level variation per repetition) to the requested length; songs × stems run in
//! parallel (rayon).

use rayon::prelude::*;

use super::dsp::{db_to_gain, Rng};
use super::parts::{self, Chord, Ctx, Feel, Note, Part, DOM7, MAJ7, MAJOR, MIN7, MINOR};
use super::song::scale_to_peak;

/// Bars in the rendered loop (one pass of the progression).
const LOOP_BARS: usize = 4;
/// Seconds rendered after the loop so release tails wrap into the next repetition.
const LOOP_TAIL_S: f64 = 2.0;
/// Stem parts in the order stems cycle through them.
const PARTS: [Part; 7] = [
    Part::Drums,
    Part::Bass,
    Part::Chords,
    Part::Lead,
    Part::Arp,
    Part::Keys,
    Part::Pad,
];

fn progression(i: usize) -> Vec<Chord> {
    let c = |root, intervals| Chord { root, intervals };
    match i % 4 {
        0 => vec![c(0, MINOR), c(8, MAJOR), c(3, MAJOR), c(10, MAJOR)],
        1 => vec![c(0, MAJOR), c(7, MAJOR), c(9, MINOR), c(5, MAJOR)],
        2 => vec![c(0, MAJ7), c(9, MIN7), c(5, MAJ7), c(7, DOM7)],
        _ => vec![c(0, MINOR), c(5, MINOR), c(10, MAJOR), c(3, MAJOR)],
    }
}

/// A random melody over the progression: 8th-note grid, chord tones, stepwise-ish.
fn random_melody(prog: &[Chord], rng: &mut Rng) -> Vec<Note> {
    let mut notes = Vec::new();
    let mut prev = 7;
    for (bar, chord) in prog.iter().enumerate() {
        let mut pos = 0.0;
        while pos < 4.0 {
            let len = [0.5f64, 0.5, 1.0, 1.0, 1.5, 2.0][rng.below(6)].min(4.0 - pos);
            if rng.uniform() < 0.85 {
                let tones: Vec<i32> = (-1..=1)
                    .flat_map(|o| {
                        chord
                            .intervals
                            .iter()
                            .map(move |iv| chord.root + iv + 12 * o)
                    })
                    .collect();
                let near: Vec<i32> = tones
                    .into_iter()
                    .filter(|p| (p - prev).abs() <= 5 && (-5..=19).contains(p))
                    .collect();
                prev = if near.is_empty() {
                    chord.root
                } else {
                    near[rng.below(near.len())]
                };
                notes.push(Note {
                    start_beats: bar as f64 * 4.0 + pos,
                    len_beats: len,
                    pitch: prev,
                });
            }
            pos += len;
        }
    }
    notes
}

fn channels_of(part: Part) -> usize {
    match part {
        Part::Drums | Part::Bass | Part::Lead => 1,
        Part::Chords | Part::Keys | Part::Pad | Part::Arp => 2,
    }
}

fn render_stem(
    song: usize,
    stem: usize,
    seconds: f64,
    sample_rate: u32,
    seed: u64,
) -> Vec<Vec<f32>> {
    let mut song_rng = Rng::new(seed).fork(song as u64 + 1);
    let feel = [Feel::SynthPop, Feel::LaidBack, Feel::Driving][song_rng.below(3)];
    let tempo_bpm = match feel {
        Feel::SynthPop => song_rng.range(112.0, 128.0),
        Feel::LaidBack => song_rng.range(84.0, 98.0),
        Feel::Driving => song_rng.range(132.0, 150.0),
    };
    let tonic = 60 + song_rng.below(12) as i32;
    let prog = progression(song_rng.below(4));
    let melody = random_melody(&prog, &mut song_rng);
    let part = PARTS[stem % PARTS.len()];
    let octave_up = (stem / PARTS.len()) % 2 == 1 && !matches!(part, Part::Drums | Part::Bass);
    let sr = sample_rate as f64;
    let loop_frames = (LOOP_BARS as f64 * 4.0 * 60.0 / tempo_bpm * sr).round() as usize;
    let ctx = Ctx {
        sample_rate: sr,
        tempo_bpm,
        tonic: tonic + if octave_up { 12 } else { 0 },
        feel,
        progression: &prog,
        swing: if feel == Feel::LaidBack { 0.6 } else { 0.5 },
        frames: loop_frames + (LOOP_TAIL_S * sr) as usize,
    };
    let mut rng = song_rng.fork(stem as u64 + 1);
    let channels = channels_of(part);
    let x = parts::render(&ctx, part, (0, LOOP_BARS), channels, &melody, &mut rng);
    let x = scale_to_peak(&x, rng.range(-6.0, -3.0));
    let frames = (seconds * sr).round() as usize;
    let rep_gain: Vec<f32> = (0..frames / loop_frames + 1)
        .map(|_| db_to_gain(rng.range(-1.5, 0.0)) as f32)
        .collect();
    x.iter()
        .map(|ch| tile(ch, loop_frames, frames, &rep_gain))
        .collect()
}

/// Repeats `x[..loop_frames]` to `frames`, adding the tail `x[loop_frames..]` onto the start
/// of each following repetition, repetition `r` scaled by `rep_gain[r]`.
fn tile(x: &[f32], loop_frames: usize, frames: usize, rep_gain: &[f32]) -> Vec<f32> {
    let tail = &x[loop_frames.min(x.len())..];
    let mut out = Vec::with_capacity(frames);
    for (r, &g) in rep_gain.iter().enumerate() {
        let start = out.len();
        if start >= frames {
            break;
        }
        let n = loop_frames.min(frames - start);
        out.extend(x[..n].iter().map(|v| v * g));
        if r > 0 {
            let prev_g = rep_gain[r - 1];
            for (o, t) in out[start..].iter_mut().zip(tail) {
                *o += t * prev_g;
            }
        }
    }
    out
}

/// A deterministic benchmark catalog: `n_songs` songs of `stems` stems, each `seconds`
/// long at `sample_rate`, as `[song][stem][channel][frame]`. Stems cycle through drums,
/// bass, chords, lead, arp, keys and pad (drums, bass and lead mono; the others stereo);
/// each song has its own tempo, key, progression, feel and melody drawn from `seed`.
pub fn catalog(
    n_songs: usize,
    stems: usize,
    seconds: f64,
    sample_rate: u32,
    seed: u64,
) -> Vec<Vec<Vec<Vec<f32>>>> {
    let mut flat: Vec<Vec<Vec<f32>>> = (0..n_songs * stems)
        .into_par_iter()
        .map(|i| render_stem(i / stems, i % stems, seconds, sample_rate, seed))
        .collect();
    let mut songs = Vec::with_capacity(n_songs);
    for _ in 0..n_songs {
        songs.push(flat.drain(..stems).collect());
    }
    songs
}
