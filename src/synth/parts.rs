//! Parts: sequences the instruments of [`super::instruments`] over a chord progression
//! (drum patterns with groove and velocity variation, bass lines, chord voicings, arpeggios,
//! melodies) and returns planar stems.

use super::dsp::{pan_gains, Rng};
use super::instruments::{self as ins, SynthPatch};
use super::patches;

/// Minor triad intervals.
pub const MINOR: &[i32] = &[0, 3, 7];
/// Major triad intervals.
pub const MAJOR: &[i32] = &[0, 4, 7];
/// Major seventh chord intervals.
pub const MAJ7: &[i32] = &[0, 4, 7, 11];
/// Minor seventh chord intervals.
pub const MIN7: &[i32] = &[0, 3, 7, 10];
/// Dominant seventh chord intervals.
pub const DOM7: &[i32] = &[0, 4, 7, 10];

/// A chord: root in semitones above the key's tonic, and intervals above the root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chord {
    /// root, semitones above the tonic (0…11)
    pub root: i32,
    /// chord tones above the root (e.g. `[0, 3, 7]` minor triad)
    pub intervals: &'static [i32],
}

/// A melody note: position and length in beats, pitch in semitones from the tonic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    /// start, beats from the phrase start
    pub start_beats: f64,
    /// length in beats
    pub len_beats: f64,
    /// pitch, semitones from the tonic
    pub pitch: i32,
}

/// The groove and sound palette a song's parts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feel {
    /// four-on-the-floor, octave bass, supersaw pads, saw lead
    SynthPop,
    /// swung boom-bap, FM keys, soft pad, plucky lead
    LaidBack,
    /// fast, galloping bass, pumping wide chords, driven lead
    Driving,
}

/// What a stem plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// drum kit
    Drums,
    /// bass line on the chord roots
    Bass,
    /// supersaw chords
    Chords,
    /// FM electric piano comping
    Keys,
    /// slow soft pad
    Pad,
    /// the melody
    Lead,
    /// 16th-note arpeggio
    Arp,
}

/// Musical context shared by a song's parts.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    /// stem sample rate
    pub sample_rate: f64,
    /// tempo
    pub tempo_bpm: f64,
    /// MIDI note of the tonic in the lead's octave
    pub tonic: i32,
    /// groove and palette
    pub feel: Feel,
    /// one chord per bar, cycled
    pub progression: &'a [Chord],
    /// position of odd 16ths inside their 8th (0.5 straight, ~0.6 swung)
    pub swing: f64,
    /// stem length
    pub frames: usize,
}

impl Ctx<'_> {
    /// Seconds per beat.
    pub fn beat_s(&self) -> f64 {
        60.0 / self.tempo_bpm
    }

    /// Frame of a position in beats (odd 16ths swung), plus a timing offset.
    pub(crate) fn frame(&self, beats: f64, offset_s: f64) -> usize {
        let sixteenth = (beats * 4.0).round();
        let swung = if sixteenth as i64 % 2 == 1 && (beats * 4.0 - sixteenth).abs() < 1e-9 {
            (sixteenth - 1.0) / 4.0 + self.swing * 0.5
        } else {
            beats
        };
        ((swung * self.beat_s() + offset_s).max(0.0) * self.sample_rate).round() as usize
    }

    fn chord(&self, bar: usize) -> Chord {
        self.progression[bar % self.progression.len()]
    }

    /// Chord tones placed inside [low, low + 12).
    fn voicing(&self, bar: usize, low: i32) -> Vec<i32> {
        let c = self.chord(bar);
        let mut v: Vec<i32> = c
            .intervals
            .iter()
            .map(|iv| low + (self.tonic + c.root + iv - low).rem_euclid(12))
            .collect();
        v.sort_unstable();
        v
    }

    /// Bass note of a bar's chord, in MIDI 28…39.
    fn bass_root(&self, bar: usize) -> i32 {
        28 + (self.tonic + self.chord(bar).root - 28).rem_euclid(12)
    }
}

/// Renders a part over bars `bars.0 .. bars.1` into `channels` planar channels.
pub fn render(
    ctx: &Ctx,
    part: Part,
    bars: (usize, usize),
    channels: usize,
    melody: &[Note],
    rng: &mut Rng,
) -> Vec<Vec<f64>> {
    let mut layers: Vec<(Vec<f64>, f64)> = match part {
        Part::Drums => super::drums::drums(ctx, bars, rng),
        Part::Bass => vec![(bass(ctx, bars, rng), 0.0)],
        Part::Chords | Part::Pad => supersaw_chords(ctx, part, bars, rng),
        Part::Keys => keys(ctx, bars, rng),
        Part::Lead => lead(ctx, bars, melody, channels, rng),
        Part::Arp => arp(ctx, bars, rng),
    };
    if channels == 1 {
        let mut mono = vec![0.0; ctx.frames];
        for (l, _) in &layers {
            mono.iter_mut().zip(l).for_each(|(m, x)| *m += x);
        }
        return vec![mono];
    }
    let mut out = vec![vec![0.0; ctx.frames]; 2];
    for (l, pan) in layers.iter_mut() {
        let (gl, gr) = pan_gains(*pan);
        let norm = std::f64::consts::SQRT_2; // constant-power centre back to unity
        for (i, x) in l.iter().enumerate() {
            out[0][i] += gl * norm * x;
            out[1][i] += gr * norm * x;
        }
    }
    out
}

fn bass(ctx: &Ctx, (b0, b1): (usize, usize), rng: &mut Rng) -> Vec<f64> {
    // (step, length in 16ths, semitones above the root)
    let (pattern, patch): (&[(usize, usize, i32)], SynthPatch) = match ctx.feel {
        Feel::SynthPop => (
            &[
                (0, 2, 0),
                (2, 2, 12),
                (4, 2, 0),
                (6, 2, 12),
                (8, 2, 0),
                (10, 2, 12),
                (12, 2, 0),
                (14, 2, 12),
            ],
            patches::BASS_POP,
        ),
        Feel::LaidBack => (
            &[(0, 5, 0), (6, 2, 0), (9, 3, 7), (14, 2, 12)],
            patches::BASS_LAID_BACK,
        ),
        Feel::Driving => (
            &[
                (0, 1, 0),
                (2, 1, 0),
                (3, 1, 0),
                (4, 1, 0),
                (6, 1, 0),
                (7, 1, 0),
                (8, 1, 0),
                (10, 1, 0),
                (11, 1, 12),
                (12, 1, 0),
                (14, 1, 7),
                (15, 1, 0),
            ],
            patches::BASS_DRIVING,
        ),
    };
    let mut out = vec![0.0; ctx.frames];
    let sixteenth_s = ctx.beat_s() / 4.0;
    for bar in b0..b1 {
        let root = ctx.bass_root(bar);
        for &(step, len, iv) in pattern {
            let vel = (if step % 4 == 0 { 0.95 } else { 0.8 }) + 0.06 * rng.bipolar();
            let start = ctx.frame(bar as f64 * 4.0 + step as f64 / 4.0, 0.0);
            ins::synth_note(
                &mut out,
                start,
                ctx.sample_rate,
                (root + iv) as f64,
                len as f64 * sixteenth_s * 0.9,
                vel,
                &patch,
            );
        }
    }
    out
}

fn supersaw_chords(
    ctx: &Ctx,
    part: Part,
    (b0, b1): (usize, usize),
    rng: &mut Rng,
) -> Vec<(Vec<f64>, f64)> {
    let sr = ctx.sample_rate;
    let bar_s = 4.0 * ctx.beat_s();
    let pad = part == Part::Pad;
    let (voices, detune, attack, release, low) = match (pad, ctx.feel) {
        (true, _) => (3, 9.0, 1.2, 1.5, ctx.tonic - 3),
        (false, Feel::Driving) => (7, 24.0, 0.008, 0.04, ctx.tonic - 9),
        (false, _) => (5, 16.0, 0.06, 0.5, ctx.tonic - 12),
    };
    // two layers (left / right) with independent phases and detune make the stack wide
    let mut lr = [vec![0.0; ctx.frames], vec![0.0; ctx.frames]];
    for bar in b0..b1 {
        let notes = ctx.voicing(bar, low);
        let bass = ctx.bass_root(bar) + 12;
        // Driving: 8th-note stabs; otherwise one chord held over the bar
        let hits: Vec<(f64, f64)> = if !pad && ctx.feel == Feel::Driving {
            (0..8).map(|e| (e as f64 * 0.5, 0.36)).collect()
        } else {
            vec![(0.0, 3.95)]
        };
        for (pos, len) in hits {
            let start = ctx.frame(bar as f64 * 4.0 + pos, 0.0);
            let gate_s = len * ctx.beat_s();
            for (n, &note) in notes.iter().chain(std::iter::once(&bass)).enumerate() {
                for layer in lr.iter_mut() {
                    let vel = if n == notes.len() { 0.5 } else { 0.7 } + 0.05 * rng.bipolar();
                    ins::supersaw_note(
                        layer,
                        start,
                        sr,
                        note as f64,
                        gate_s,
                        vel,
                        (voices, detune),
                        (attack, release),
                        rng,
                    );
                }
            }
        }
    }
    let (base_hz, depth_oct, q) = match (pad, ctx.feel) {
        (true, _) => (850.0, 0.5, 0.7),
        (false, Feel::Driving) => (2000.0, 0.6, 1.1),
        (false, _) => (1200.0, 0.9, 1.3),
    };
    let sweep_hz = 1.0 / (8.0 * bar_s);
    for (i, ch) in lr.iter_mut().enumerate() {
        ins::lowpass_sweep(ch, sr, base_hz, depth_oct, sweep_hz, i as f64 * 0.4, q);
    }
    // mid/side: the layers' difference, narrowed, is the width (keeps the FLAC side small)
    let [a, b] = lr;
    let width = if pad { 0.5 } else { 0.35 };
    let l = a
        .iter()
        .zip(&b)
        .map(|(x, y)| 0.5 * (x + y) + 0.5 * width * (x - y))
        .collect();
    let r = a
        .iter()
        .zip(&b)
        .map(|(x, y)| 0.5 * (x + y) - 0.5 * width * (x - y))
        .collect();
    vec![(l, -1.0), (r, 1.0)]
}

fn keys(ctx: &Ctx, (b0, b1): (usize, usize), rng: &mut Rng) -> Vec<(Vec<f64>, f64)> {
    let mut out = vec![0.0; ctx.frames];
    let sixteenth_s = ctx.beat_s() / 4.0;
    for bar in b0..b1 {
        let notes = ctx.voicing(bar, ctx.tonic - 10);
        for &(step, len, v) in &[(0usize, 5usize, 0.8), (6, 3, 0.6), (10, 5, 0.7)] {
            let start = ctx.frame(bar as f64 * 4.0 + step as f64 / 4.0, 0.006);
            for (i, &n) in notes.iter().enumerate() {
                let strum = ctx.frame(0.0, 0.004 * i as f64); // a gentle roll upwards
                let vel = v * (0.95 + 0.05 * rng.bipolar());
                ins::fm_keys_note(
                    &mut out,
                    start + strum,
                    ctx.sample_rate,
                    n as f64,
                    len as f64 * sixteenth_s,
                    vel,
                );
            }
        }
    }
    // auto-pan tremolo, one cycle per two beats
    let rate_hz = 0.5 / ctx.beat_s();
    let (mut l, mut r) = (out.clone(), out);
    for (i, (a, b)) in l.iter_mut().zip(r.iter_mut()).enumerate() {
        let m = 0.35 * (std::f64::consts::TAU * rate_hz * i as f64 / ctx.sample_rate).sin();
        *a *= 1.0 + m;
        *b *= 1.0 - m;
    }
    vec![(l, -1.0), (r, 1.0)]
}

fn lead_patch(feel: Feel) -> SynthPatch {
    match feel {
        Feel::SynthPop => patches::LEAD_POP,
        Feel::LaidBack => patches::LEAD_LAID_BACK,
        Feel::Driving => patches::LEAD_DRIVING,
    }
}

fn lead(
    ctx: &Ctx,
    (b0, b1): (usize, usize),
    melody: &[Note],
    channels: usize,
    rng: &mut Rng,
) -> Vec<(Vec<f64>, f64)> {
    let patch = lead_patch(ctx.feel);
    let phrase_beats = melody
        .iter()
        .map(|n| n.start_beats + n.len_beats)
        .fold(0.0, f64::max);
    let phrase_beats = (phrase_beats / 4.0).ceil() * 4.0;
    // stereo leads are double-tracked: a second take slightly detuned and late
    let takes: &[(f64, f64, f64)] = if channels == 2 {
        &[(-0.06, 0.0, -0.7), (0.06, 0.009, 0.7)]
    } else {
        &[(0.0, 0.0, 0.0)]
    };
    let mut layers = Vec::new();
    for &(detune, late_s, pan) in takes {
        let mut out = vec![0.0; ctx.frames];
        let end_beats = b1 as f64 * 4.0;
        let mut phrase_start = b0 as f64 * 4.0;
        while phrase_beats > 0.0 && phrase_start < end_beats {
            for n in melody {
                let beat = phrase_start + n.start_beats;
                if beat >= end_beats {
                    break;
                }
                let accent = if n.start_beats.fract() == 0.0 {
                    0.9
                } else {
                    0.78
                };
                let gate_s = n.len_beats * ctx.beat_s() * 0.92;
                let note = (ctx.tonic + n.pitch) as f64 + detune;
                let start = ctx.frame(beat, late_s + 0.002 * rng.bipolar().abs());
                ins::synth_note(
                    &mut out,
                    start,
                    ctx.sample_rate,
                    note,
                    gate_s,
                    accent + 0.05 * rng.bipolar(),
                    &patch,
                );
            }
            phrase_start += phrase_beats;
        }
        layers.push((out, pan));
    }
    layers
}

fn arp(ctx: &Ctx, (b0, b1): (usize, usize), rng: &mut Rng) -> Vec<(Vec<f64>, f64)> {
    let patch = patches::PLUCK;
    let order = [0usize, 1, 2, 3, 4, 3, 2, 1];
    // ping-pong: alternate notes go left and right
    let mut lr = [vec![0.0; ctx.frames], vec![0.0; ctx.frames]];
    for bar in b0..b1 {
        let v = ctx.voicing(bar, ctx.tonic);
        let tones = [v[0], v[1], v[2], v[0] + 12, v[1] + 12];
        for step in 0..16 {
            let start = ctx.frame(bar as f64 * 4.0 + step as f64 / 4.0, 0.0);
            let vel = if step % 4 == 0 { 0.85 } else { 0.62 } + 0.06 * rng.bipolar();
            let note = tones[order[step % order.len()]] as f64;
            ins::synth_note(
                &mut lr[step % 2],
                start,
                ctx.sample_rate,
                note,
                ctx.beat_s() * 0.2,
                vel,
                &patch,
            );
        }
    }
    let [l, r] = lr;
    vec![(l, -0.55), (r, 0.55)]
}
