//! The three demo songs: key, tempo, progression, melody, arrangement and mix settings, and
//! rendering a song's stems.

use rayon::prelude::*;

use super::dsp::{db_to_gain, peak, Rng};
use super::parts::{self, Chord, Ctx, Feel, Note, Part, DOM7, MAJ7, MAJOR, MIN7, MINOR};

/// One stem of a song: what it plays, its format, its level and its mix settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StemSketch {
    /// track name, also the file name stem (`stems/01-drums.flac`)
    pub name: &'static str,
    /// what it plays
    pub part: Part,
    /// 1 mono, 2 stereo
    pub channels: usize,
    /// bars where it plays, `[start, end)`
    pub bars: (usize, usize),
    /// the stem's sample peak (the stems are left at such realistic, unbalanced levels)
    pub peak_dbfs: f64,
    /// suggested fader
    pub gain_db: f64,
    /// suggested pan
    pub pan: f64,
    /// send level to the `verb` bus (`None`: no send)
    pub verb_send_db: Option<f64>,
    /// gain automation, `[beats, dB]` breakpoints
    pub gain_automation: Vec<(f64, f64)>,
    /// pan automation, `[beats, pan]` breakpoints
    pub pan_automation: Vec<(f64, f64)>,
}

/// A song for the demo scene: everything needed to synthesise its stems and write its scene.
#[derive(Debug, Clone, PartialEq)]
pub struct SongSketch {
    /// file name stem, e.g. `01-first-light`
    pub slug: &'static str,
    /// title
    pub title: &'static str,
    /// position on the album
    pub track_number: u32,
    /// tempo
    pub tempo_bpm: f64,
    /// MIDI note of the tonic in the melody's octave
    pub tonic: i32,
    /// key name for people (`A minor`)
    pub key_name: &'static str,
    /// groove and palette
    pub feel: Feel,
    /// odd-16th position inside an 8th (0.5 straight)
    pub swing: f64,
    /// song length in bars of 4/4
    pub bars: usize,
    /// one chord per bar, cycled
    pub progression: Vec<Chord>,
    /// the lead's phrase (repeated while the lead plays)
    pub melody: Vec<Note>,
    /// the stems
    pub stems: Vec<StemSketch>,
    /// sample rate the stems are written at
    pub stem_sample_rate: u32,
    /// sample rate the scene renders at
    pub render_sample_rate: u32,
    /// seconds of silence-bound ringing kept after the last bar
    pub ring_out_s: f64,
    /// master fade-out length
    pub fade_out_s: f64,
    /// PRNG seed
    pub seed: u64,
}

impl SongSketch {
    /// Length of the stems in seconds (bars plus the ring-out).
    pub fn duration_s(&self) -> f64 {
        self.bars as f64 * 4.0 * 60.0 / self.tempo_bpm + self.ring_out_s
    }

    /// Seconds of a position in beats.
    pub fn beats_to_s(&self, beats: f64) -> f64 {
        beats * 60.0 / self.tempo_bpm
    }

    /// Renders every stem (planar f32, `[stem][channel][frame]`), scaled to its `peak_dbfs`.
    pub fn render_stems(&self) -> Vec<Vec<Vec<f32>>> {
        let sr = self.stem_sample_rate as f64;
        let ctx = Ctx {
            sample_rate: sr,
            tempo_bpm: self.tempo_bpm,
            tonic: self.tonic,
            feel: self.feel,
            progression: &self.progression,
            swing: self.swing,
            frames: (self.duration_s() * sr).round() as usize,
        };
        let root = Rng::new(self.seed);
        self.stems
            .par_iter()
            .enumerate()
            .map(|(i, s)| {
                let mut rng = root.fork(i as u64 + 1);
                let x = parts::render(&ctx, s.part, s.bars, s.channels, &self.melody, &mut rng);
                scale_to_peak(&x, s.peak_dbfs)
            })
            .collect()
    }
}

/// Scales planar f64 audio so its sample peak is `peak_dbfs` and converts to f32.
pub(crate) fn scale_to_peak(x: &[Vec<f64>], peak_dbfs: f64) -> Vec<Vec<f32>> {
    let p = peak(x);
    let g = if p > 0.0 {
        db_to_gain(peak_dbfs) / p
    } else {
        0.0
    };
    x.iter()
        .map(|ch| ch.iter().map(|v| (v * g) as f32).collect())
        .collect()
}

fn n(start_beats: f64, len_beats: f64, pitch: i32) -> Note {
    Note {
        start_beats,
        len_beats,
        pitch,
    }
}

#[allow(clippy::too_many_arguments)]
fn stem(
    name: &'static str,
    part: Part,
    channels: usize,
    bars: (usize, usize),
    peak_dbfs: f64,
    gain_db: f64,
    pan: f64,
    verb_send_db: Option<f64>,
) -> StemSketch {
    StemSketch {
        name,
        part,
        channels,
        bars,
        peak_dbfs,
        gain_db,
        pan,
        verb_send_db,
        gain_automation: vec![],
        pan_automation: vec![],
    }
}

/// The demo album: three songs, 21–25 s each, in different keys, tempos and feels.
pub fn demo_songs() -> Vec<SongSketch> {
    vec![first_light(), city_rain(), overdrive()]
}

/// 120 bpm synth-pop in A minor: Am – F – C – G.
fn first_light() -> SongSketch {
    let c = |root, intervals| Chord { root, intervals };
    // A minor, tonic A4: A=0 B=2 C=3 D=5 E=7 F=8 G=10 (A'=12)
    let phrase_a = [
        n(0.0, 1.5, 7),
        n(1.5, 0.5, 5),
        n(2.0, 1.0, 3),
        n(3.0, 0.5, 2),
        n(3.5, 0.5, 3), // Am
        n(4.0, 1.5, 0),
        n(5.5, 0.5, 3),
        n(6.0, 1.5, 8),
        n(7.5, 0.5, 7), // F
        n(8.0, 1.0, 7),
        n(9.0, 1.0, 10),
        n(10.0, 1.0, 12),
        n(11.0, 1.0, 7), // C
        n(12.0, 1.5, 5),
        n(13.5, 0.5, 2),
        n(14.0, 2.0, -2), // G
    ];
    let answer = [
        n(16.0, 1.5, 7),
        n(17.5, 0.5, 5),
        n(18.0, 1.0, 3),
        n(19.0, 0.5, 2),
        n(19.5, 0.5, 3),
        n(20.0, 1.5, 0),
        n(21.5, 0.5, 3),
        n(22.0, 1.5, 8),
        n(23.5, 0.5, 12),
        n(24.0, 1.0, 15),
        n(25.0, 0.5, 14),
        n(25.5, 0.5, 12),
        n(26.0, 1.0, 10),
        n(27.0, 1.0, 7),
        n(28.0, 1.0, 10),
        n(29.0, 1.0, 7),
        n(30.0, 2.0, 2),
    ];
    let mut lead = stem("lead", Part::Lead, 1, (2, 10), -5.5, -6.5, 0.1, Some(-12.0));
    lead.pan_automation = vec![(8.0, -0.15), (40.0, 0.2)];
    let mut chords = stem(
        "chords",
        Part::Chords,
        2,
        (0, 10),
        -6.0,
        -7.5,
        0.0,
        Some(-16.0),
    );
    chords.gain_automation = vec![(0.0, -4.0), (8.0, 0.0)];
    SongSketch {
        slug: "01-first-light",
        title: "First Light",
        track_number: 1,
        tempo_bpm: 120.0,
        tonic: 69,
        key_name: "A minor",
        feel: Feel::SynthPop,
        swing: 0.5,
        bars: 10,
        progression: vec![c(0, MINOR), c(8, MAJOR), c(3, MAJOR), c(10, MAJOR)],
        melody: phrase_a.into_iter().chain(answer).collect(),
        stems: vec![
            stem(
                "drums",
                Part::Drums,
                1,
                (2, 10),
                -4.5,
                3.0,
                0.0,
                Some(-22.0),
            ),
            stem("bass", Part::Bass, 1, (2, 10), -5.0, -4.0, 0.0, None),
            chords,
            lead,
            stem("arp", Part::Arp, 1, (4, 10), -6.0, -10.0, -0.3, Some(-10.0)),
        ],
        stem_sample_rate: 48000,
        render_sample_rate: 48000,
        ring_out_s: 0.6,
        fade_out_s: 3.0,
        seed: 0x0001_F1E5,
    }
}

/// 92 bpm laid-back groove in F major: Fmaj7 – Dm7 – Bbmaj7 – C7, swung 16ths.
/// Stems at 44.1 kHz, rendered at 48 kHz.
fn city_rain() -> SongSketch {
    let c = |root, intervals| Chord { root, intervals };
    // F major, tonic F4: F=0 G=2 A=4 Bb=5 C=7 D=9 E=11 (F'=12)
    let phrase_a = [
        n(0.5, 0.5, 4),
        n(1.0, 1.0, 7),
        n(2.0, 1.5, 11),
        n(3.5, 0.5, 9), // Fmaj7
        n(4.5, 1.0, 7),
        n(5.5, 0.5, 4),
        n(6.0, 1.5, 0), // Dm7
        n(8.5, 0.5, 9),
        n(9.0, 1.0, 12),
        n(10.0, 1.0, 16),
        n(11.0, 0.5, 14),
        n(11.5, 0.5, 12), // Bbmaj7
        n(12.0, 1.5, 11),
        n(13.5, 0.5, 9),
        n(14.0, 2.0, 7), // C7
    ];
    let answer = [
        n(16.5, 0.5, 4),
        n(17.0, 1.0, 7),
        n(18.0, 1.5, 11),
        n(19.5, 0.5, 12), // Fmaj7
        n(20.5, 1.0, 9),
        n(21.5, 0.5, 7),
        n(22.0, 1.0, 5),
        n(23.0, 1.0, 4), // Dm7
        n(24.5, 0.5, 2),
        n(25.0, 1.0, 5),
        n(26.0, 1.5, 9),
        n(27.5, 0.5, 7), // Bbmaj7
        n(28.0, 1.0, 2),
        n(29.0, 1.0, 4),
        n(30.0, 2.0, 0), // C7 → resolves on F
    ];
    let mut pad = stem("pad", Part::Pad, 1, (0, 9), -6.0, -6.5, 0.3, Some(-8.0));
    pad.gain_automation = vec![(0.0, -12.0), (4.0, 0.0), (28.0, 0.0), (32.0, -3.0)];
    SongSketch {
        slug: "02-city-rain",
        title: "City Rain",
        track_number: 2,
        tempo_bpm: 92.0,
        tonic: 65,
        key_name: "F major",
        feel: Feel::LaidBack,
        swing: 0.6,
        bars: 9,
        progression: vec![c(0, MAJ7), c(9, MIN7), c(5, MAJ7), c(7, DOM7)],
        melody: phrase_a.into_iter().chain(answer).collect(),
        stems: vec![
            stem("drums", Part::Drums, 1, (1, 9), -5.0, 1.0, 0.0, Some(-20.0)),
            stem("bass", Part::Bass, 1, (1, 9), -5.5, -6.5, 0.0, None),
            stem("keys", Part::Keys, 2, (0, 9), -5.5, -5.5, -0.1, Some(-14.0)),
            pad,
            stem("lead", Part::Lead, 1, (1, 9), -5.0, -4.5, 0.25, Some(-11.0)),
        ],
        stem_sample_rate: 44100,
        render_sample_rate: 48000,
        ring_out_s: 0.6,
        fade_out_s: 4.0,
        seed: 0x0002_C17E,
    }
}

/// 140 bpm driving track in E minor: Em – C – G – D, galloping bass, pumping chords.
/// Stems at 44.1 kHz, rendered at 48 kHz.
fn overdrive() -> SongSketch {
    let c = |root, intervals| Chord { root, intervals };
    // E minor, tonic E4: E=0 F#=2 G=3 A=5 B=7 C=8 D=10 (E'=12)
    let phrase_a = [
        n(0.0, 0.5, 7),
        n(0.5, 0.5, 7),
        n(1.0, 0.5, 10),
        n(1.5, 1.0, 12),
        n(2.5, 0.5, 10),
        n(3.0, 1.0, 7), // Em
        n(4.0, 0.5, 12),
        n(4.5, 0.5, 12),
        n(5.0, 0.5, 15),
        n(5.5, 1.0, 12),
        n(6.5, 0.5, 10),
        n(7.0, 1.0, 8), // C
        n(8.0, 0.5, 7),
        n(8.5, 0.5, 10),
        n(9.0, 1.0, 15),
        n(10.0, 0.5, 14),
        n(10.5, 0.5, 15),
        n(11.0, 1.0, 19), // G
        n(12.0, 1.5, 17),
        n(13.5, 0.5, 15),
        n(14.0, 1.0, 14),
        n(15.0, 1.0, 10), // D
    ];
    let answer: Vec<Note> = phrase_a[..18]
        .iter()
        .map(|x| n(x.start_beats + 16.0, x.len_beats, x.pitch))
        .chain([
            n(28.0, 1.0, 14),
            n(29.0, 1.0, 12),
            n(30.0, 0.5, 10),
            n(30.5, 1.5, 12),
        ])
        .collect();
    let mut arp = stem("arp", Part::Arp, 1, (0, 8), -6.0, -10.0, 0.0, Some(-12.0));
    arp.pan_automation = vec![(0.0, -0.4), (24.0, 0.4), (48.0, -0.2)];
    let mut lead = stem("lead", Part::Lead, 1, (4, 12), -5.5, -8.0, 0.0, Some(-13.0));
    lead.gain_automation = vec![(16.0, -2.0), (32.0, 0.0), (44.0, 1.5)];
    SongSketch {
        slug: "03-overdrive",
        title: "Overdrive",
        track_number: 3,
        tempo_bpm: 140.0,
        tonic: 64,
        key_name: "E minor",
        feel: Feel::Driving,
        swing: 0.5,
        bars: 12,
        progression: vec![c(0, MINOR), c(8, MAJOR), c(3, MAJOR), c(10, MAJOR)],
        melody: phrase_a.into_iter().chain(answer).collect(),
        stems: vec![
            stem(
                "drums",
                Part::Drums,
                1,
                (2, 12),
                -4.5,
                2.0,
                0.0,
                Some(-24.0),
            ),
            stem("bass", Part::Bass, 1, (2, 12), -5.0, -3.0, 0.0, None),
            stem(
                "chords",
                Part::Chords,
                2,
                (0, 12),
                -6.0,
                -5.0,
                0.0,
                Some(-18.0),
            ),
            lead,
            arp,
        ],
        stem_sample_rate: 44100,
        render_sample_rate: 48000,
        ring_out_s: 0.6,
        fade_out_s: 2.5,
        seed: 0x0003_0D71,
    }
}
