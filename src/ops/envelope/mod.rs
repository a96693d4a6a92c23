//! Piecewise-linear gain curves: automation (gain and pan), fades.
//!
//! An [`Envelope`] is a list of breakpoints `(frame, linear gain)`. Before the first point
//! the curve holds the first value, after the last it holds the last. Between points the
//! gain moves linearly in amplitude. Curved shapes (dB ramps, equal-power fades, pan
//! automation through the constant-power law) are sampled on the host in f64 into short
//! linear segments, so the kernel only does `+` and `*` (GUIDE §4): mirrors
//! `shaders/envelope.wgsl`.
//!
//! Evaluation, identical on CPU and GPU: within the segment `[f0, f1)`,
//! `g = g0 + slope * (n - f0) as f32` with `slope` computed on the host in f64 and rounded
//! to f32. Segments are split so that `f1 - f0 < 2^22`, keeping `(n - f0)` exact in f32.

pub mod cpu;
pub mod gpu;

/// Longest segment, in frames, so that frame offsets stay exact in f32.
pub const MAX_SEGMENT_FRAMES: u64 = 1 << 22;

/// One linear segment, as the kernel sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Segment {
    /// first frame of the segment (relative to the buffer's first frame; negative when the
    /// segment began before a time chunk)
    pub start_frame: i32,
    /// one past the last frame of the segment
    pub end_frame: i32,
    /// gain at `start_frame`
    pub gain0: f32,
    /// gain change per frame
    pub slope: f32,
}

/// A piecewise-linear gain curve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Envelope {
    /// breakpoints `(frame, linear gain)`, frames strictly increasing
    pub points: Vec<(u64, f64)>,
}

impl Envelope {
    /// A curve from breakpoints; points are sorted by frame and duplicates (same frame)
    /// keep the later value, which lets a curve jump.
    pub fn new(mut points: Vec<(u64, f64)>) -> Self {
        points.sort_by_key(|p| p.0);
        let mut out: Vec<(u64, f64)> = Vec::with_capacity(points.len());
        for p in points {
            match out.last_mut() {
                Some(last) if last.0 == p.0 => *last = p,
                _ => out.push(p),
            }
        }
        Envelope { points: out }
    }

    /// A curve that is `gain` everywhere.
    pub fn constant(gain: f64) -> Self {
        Envelope {
            points: vec![(0, gain)],
        }
    }

    /// Samples `f(t)` for `t` in `[0, 1]` across frames `start..end` as `pieces` linear
    /// segments (f64 on the host): the breakpoints of the pieces.
    pub fn sampled(start: u64, end: u64, pieces: usize, f: impl Fn(f64) -> f64) -> Vec<(u64, f64)> {
        let len = end.saturating_sub(start);
        let pieces = pieces.max(1).min(len.max(1) as usize);
        (0..=pieces)
            .map(|i| {
                // round the frame first, then evaluate the curve exactly there
                let offset = (len as f64 * i as f64 / pieces as f64).round() as u64;
                (start + offset, f(offset as f64 / len.max(1) as f64))
            })
            .collect()
    }

    /// The segments of `segs` that overlap the window `first..first + len` of song frames,
    /// moved so the window starts at 0 (their offsets inside each segment, and so the
    /// arithmetic per frame, are unchanged).
    pub fn window(segs: &[Segment], first: i64, len: usize) -> Vec<Segment> {
        let end = first + len as i64;
        segs.iter()
            .filter(|s| i64::from(s.end_frame) > first && i64::from(s.start_frame) < end)
            .map(|s| Segment {
                start_frame: (i64::from(s.start_frame) - first) as i32,
                end_frame: (i64::from(s.end_frame) - first) as i32,
                ..*s
            })
            .collect()
    }

    /// The curve as kernel segments covering `0..frames`.
    pub fn segments(&self, frames: usize) -> Vec<Segment> {
        let frames = frames as u64;
        let mut segs = Vec::new();
        let pts = &self.points;
        if pts.is_empty() || frames == 0 {
            if frames > 0 {
                push_flat(&mut segs, 0, frames, 1.0);
            }
            return segs;
        }
        // hold before the first point
        push_flat(&mut segs, 0, pts[0].0.min(frames), pts[0].1);
        for w in pts.windows(2) {
            let ((f0, g0), (f1, g1)) = (w[0], w[1]);
            if f0 >= frames {
                break;
            }
            let slope = (g1 - g0) / (f1 - f0) as f64;
            let mut s = f0;
            let end = f1.min(frames);
            while s < end {
                let e = (s + MAX_SEGMENT_FRAMES).min(end);
                segs.push(Segment {
                    start_frame: s as i32,
                    end_frame: e as i32,
                    gain0: (g0 + slope * (s - f0) as f64) as f32,
                    slope: slope as f32,
                });
                s = e;
            }
        }
        let (fl, gl) = *pts.last().expect("non-empty");
        if fl < frames {
            push_flat(&mut segs, fl, frames, gl);
        }
        segs
    }
}

fn push_flat(segs: &mut Vec<Segment>, start: u64, end: u64, gain: f64) {
    let mut s = start;
    while s < end {
        let e = (s + MAX_SEGMENT_FRAMES).min(end);
        segs.push(Segment {
            start_frame: s as i32,
            end_frame: e as i32,
            gain0: gain as f32,
            slope: 0.0,
        });
        s = e;
    }
}

/// The curve's value at `frame` evaluated in f64 (host side; the oracle in tests does the same).
pub fn value_at(env: &Envelope, frame: u64) -> f64 {
    let p = &env.points;
    match p.iter().position(|q| q.0 > frame) {
        None => p.last().map_or(1.0, |q| q.1),
        Some(0) => p[0].1,
        Some(i) => {
            let ((f0, g0), (f1, g1)) = (p[i - 1], p[i]);
            g0 + (g1 - g0) * (frame - f0) as f64 / (f1 - f0) as f64
        }
    }
}
