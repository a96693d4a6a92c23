//! Sound presets for the subtractive voice ([`super::instruments::synth_note`]): bass,
//! lead and pluck patches per feel.

use super::instruments::SynthPatch;

/// Octave-pumping synth-pop bass.
pub const BASS_POP: SynthPatch = SynthPatch {
    saw: 0.8,
    square: 0.5,
    sub: true,
    cutoff_hz: 220.0,
    env_hz: 1400.0,
    env_decay_s: 0.09,
    q: 1.4,
    attack_s: 0.003,
    decay_s: 0.2,
    sustain: 0.6,
    release_s: 0.04,
    vibrato_cents: 0.0,
    vibrato_hz: 0.0,
    vibrato_delay_s: 0.0,
    drive: 1.8,
};

/// Round, soft bass.
pub const BASS_LAID_BACK: SynthPatch = SynthPatch {
    saw: 0.25,
    square: 0.6,
    sub: false,
    cutoff_hz: 260.0,
    env_hz: 500.0,
    env_decay_s: 0.15,
    q: 0.8,
    attack_s: 0.006,
    decay_s: 0.5,
    sustain: 0.55,
    release_s: 0.08,
    vibrato_cents: 0.0,
    vibrato_hz: 0.0,
    vibrato_delay_s: 0.0,
    drive: 1.2,
};

/// Gritty galloping bass.
pub const BASS_DRIVING: SynthPatch = SynthPatch {
    saw: 1.0,
    square: 0.3,
    sub: true,
    cutoff_hz: 300.0,
    env_hz: 1800.0,
    env_decay_s: 0.06,
    q: 1.8,
    attack_s: 0.002,
    decay_s: 0.12,
    sustain: 0.5,
    release_s: 0.03,
    vibrato_cents: 0.0,
    vibrato_hz: 0.0,
    vibrato_delay_s: 0.0,
    drive: 2.5,
};

/// Bright saw lead with vibrato.
pub const LEAD_POP: SynthPatch = SynthPatch {
    saw: 0.7,
    square: 0.3,
    sub: false,
    cutoff_hz: 1600.0,
    env_hz: 2600.0,
    env_decay_s: 0.25,
    q: 1.2,
    attack_s: 0.01,
    decay_s: 0.4,
    sustain: 0.7,
    release_s: 0.15,
    vibrato_cents: 18.0,
    vibrato_hz: 5.5,
    vibrato_delay_s: 0.2,
    drive: 1.5,
};

/// Plucky square lead.
pub const LEAD_LAID_BACK: SynthPatch = SynthPatch {
    saw: 0.2,
    square: 0.6,
    sub: false,
    cutoff_hz: 800.0,
    env_hz: 3200.0,
    env_decay_s: 0.12,
    q: 1.5,
    attack_s: 0.004,
    decay_s: 0.35,
    sustain: 0.25,
    release_s: 0.25,
    vibrato_cents: 12.0,
    vibrato_hz: 5.0,
    vibrato_delay_s: 0.25,
    drive: 1.0,
};

/// Driven saw lead, wide vibrato.
pub const LEAD_DRIVING: SynthPatch = SynthPatch {
    saw: 1.0,
    square: 0.3,
    sub: false,
    cutoff_hz: 2200.0,
    env_hz: 3000.0,
    env_decay_s: 0.2,
    q: 1.0,
    attack_s: 0.005,
    decay_s: 0.3,
    sustain: 0.8,
    release_s: 0.1,
    vibrato_cents: 25.0,
    vibrato_hz: 6.0,
    vibrato_delay_s: 0.15,
    drive: 2.5,
};

/// Short resonant pluck for arpeggios.
pub const PLUCK: SynthPatch = SynthPatch {
    saw: 0.6,
    square: 0.4,
    sub: false,
    cutoff_hz: 500.0,
    env_hz: 4200.0,
    env_decay_s: 0.07,
    q: 2.2,
    attack_s: 0.002,
    decay_s: 0.12,
    sustain: 0.0,
    release_s: 0.05,
    vibrato_cents: 0.0,
    vibrato_hz: 0.0,
    vibrato_delay_s: 0.0,
    drive: 1.3,
};
