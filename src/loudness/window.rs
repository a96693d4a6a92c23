//! Momentary (400 ms) and short-term (3 s) loudness maxima at a one-frame hop: BS.1770
//! K-weighting (the two biquads in f64, coefficients for any rate as libebur128 derives
//! them), the channel-weighted mean square of every window ending on every frame (f64
//! running sums), the largest kept. A 400 ms burst reads its full loudness wherever it
//! starts (a 100 ms hop, as libebur128's callers and ffmpeg use, reads up to ~0.5 LU low).
//! Windows that start before the audio count the silence before it (as libebur128 does);
//! the last window ends on the last frame. [`maxima_per_hop`] also keeps the largest window
//! of every hop (loudness over time, for the reports) from the same pass. Host only; no
//! shader.

/// Momentary window, seconds.
pub const MOMENTARY_S: f64 = 0.4;
/// Short-term window, seconds.
pub const SHORT_TERM_S: f64 = 3.0;

/// The two K-weighting biquads (high shelf, then the RLB high-pass) at `rate`, each
/// `(b0, b1, b2, a1, a2)`.
fn k_weighting(rate: f64) -> [[f64; 5]; 2] {
    let (f0, g_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let vh = 10f64.powf(g_db / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ];
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let a0 = 1.0 + k / q + k * k;
    let rlb = [
        1.0,
        -2.0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ];
    [shelf, rlb]
}

/// K-weighted square of every frame of one channel, added (× `weight`) into `acc`.
fn add_weighted_power(x: &[f32], rate: u32, weight: f64, acc: &mut [f64]) {
    let filters = k_weighting(f64::from(rate));
    let mut state = [[0.0f64; 2]; 2];
    for (a, &v) in acc.iter_mut().zip(x) {
        let mut s = f64::from(v);
        for (c, st) in filters.iter().zip(state.iter_mut()) {
            // transposed direct form II
            let y = c[0] * s + st[0];
            st[0] = c[1] * s - c[3] * y + st[1];
            st[1] = c[2] * s - c[4] * y;
            s = y;
        }
        *a += weight * s * s;
    }
}

/// Largest mean of `power` over windows of `window` frames ending on each frame (the
/// frames before the start count as silence); `None` when there are no frames. With
/// `per_hop = Some((hop, out))`, also the largest mean of the windows ending in each hop of
/// `hop` frames, pushed onto `out` (the same windows, so the largest of `out` is the result).
fn max_window_mean(
    power: &[f64],
    window: usize,
    mut per_hop: Option<(usize, &mut Vec<f64>)>,
) -> Option<f64> {
    let window = window.max(1);
    let (mut sum, mut best) = (0.0f64, None::<f64>);
    let mut comp = 0.0f64; // Kahan compensation of the running sum
    let mut hop_best = 0.0f64;
    for (n, &p) in power.iter().enumerate() {
        let old = if n >= window { power[n - window] } else { 0.0 };
        let d = (p - old) - comp;
        let t = sum + d;
        comp = (t - sum) - d;
        sum = t;
        let mean = sum.max(0.0) / window as f64;
        best = Some(best.map_or(mean, |b: f64| b.max(mean)));
        if let Some((hop, out)) = per_hop.as_mut() {
            hop_best = if n % *hop == 0 {
                mean
            } else {
                hop_best.max(mean)
            };
            if n % *hop == *hop - 1 || n + 1 == power.len() {
                out.push(hop_best);
            }
        }
    }
    best
}

/// K-weighted, channel-weighted power of every frame (see [`maxima`]).
fn weighted_power(channels: &[Vec<f32>], rate: u32, weights: &[f64]) -> Vec<f64> {
    let frames = channels.iter().map(Vec::len).min().unwrap_or(0);
    let mut power = vec![0.0f64; frames];
    for (ch, &w) in channels.iter().zip(weights) {
        if w != 0.0 {
            add_weighted_power(&ch[..frames], rate, w, &mut power);
        }
    }
    power
}

fn lufs(m: Option<f64>) -> Option<f64> {
    m.map(|m| -0.691 + 10.0 * m.log10())
        .filter(|v| v.is_finite())
}

fn frames_of(s: f64, rate: u32) -> usize {
    (s * f64::from(rate)).round() as usize
}

/// Maximum momentary and short-term loudness, LUFS (`None`: silence or no frames), of
/// `channels` weighted by `weights` (BS.1770 channel weights; 0 drops a channel).
pub fn maxima(channels: &[Vec<f32>], rate: u32, weights: &[f64]) -> (Option<f64>, Option<f64>) {
    let power = weighted_power(channels, rate, weights);
    (
        lufs(max_window_mean(&power, frames_of(MOMENTARY_S, rate), None)),
        lufs(max_window_mean(&power, frames_of(SHORT_TERM_S, rate), None)),
    )
}

/// Momentary and short-term loudness over time, from the same pass as [`maxima`].
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// maximum momentary loudness, LUFS
    pub momentary_max_lufs: Option<f64>,
    /// maximum short-term loudness, LUFS
    pub short_term_max_lufs: Option<f64>,
    /// per hop: the largest momentary loudness of the windows ending in it, LUFS (`None`:
    /// silence)
    pub momentary_lufs: Vec<Option<f64>>,
    /// per hop: the largest short-term loudness of the windows ending in it, LUFS
    pub short_term_lufs: Vec<Option<f64>>,
}

/// [`maxima`] and, per hop of `hop_frames` frames, the largest momentary and short-term
/// loudness of the windows ending in that hop (so each series' largest value is its
/// maximum).
pub fn maxima_per_hop(
    channels: &[Vec<f32>],
    rate: u32,
    weights: &[f64],
    hop_frames: usize,
) -> Windows {
    let power = weighted_power(channels, rate, weights);
    let hop = hop_frames.max(1);
    let (mut m, mut s) = (Vec::new(), Vec::new());
    let m_max = max_window_mean(&power, frames_of(MOMENTARY_S, rate), Some((hop, &mut m)));
    let s_max = max_window_mean(&power, frames_of(SHORT_TERM_S, rate), Some((hop, &mut s)));
    Windows {
        momentary_max_lufs: lufs(m_max),
        short_term_max_lufs: lufs(s_max),
        momentary_lufs: m.into_iter().map(|v| lufs(Some(v))).collect(),
        short_term_lufs: s.into_iter().map(|v| lufs(Some(v))).collect(),
    }
}
