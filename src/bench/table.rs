//! The one table `mixfarm bench` prints: shape and machine, then per workload (mix,
//! convolution) the CPU and GPU figures side by side, per-stage GPU time and bandwidth,
//! and the parity error. Mirrors no shader.

use std::fmt::Write;

use super::{BenchReport, Parity, Section, Timing};

const W: usize = 30;

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

/// GB/s with three significant digits below 100.
fn gbs(v: f64) -> String {
    match v {
        v if v < 1.0 => format!("{v:.3}"),
        v if v < 100.0 => format!("{v:.2}"),
        v => format!("{v:.0}"),
    }
}

fn row(out: &mut String, label: &str, cpu: String, gpu: String) {
    let _ = writeln!(out, "  {label:<W$} {cpu:>14} {gpu:>14}");
}

fn timing_rows(out: &mut String, s: &Section) {
    let f = |t: Option<Timing>, g: fn(&Timing) -> f64, p: usize| {
        opt(t.as_ref().map(g), |v| format!("{v:.p$}"))
    };
    row(
        out,
        "wall (s)",
        f(s.cpu, |t| t.wall_s, 3),
        f(s.gpu, |t| t.wall_s, 3),
    );
    row(
        out,
        "realtime factor (× realtime)",
        f(s.cpu, |t| t.realtime_factor, 1),
        f(s.gpu, |t| t.realtime_factor, 1),
    );
    row(
        out,
        "songs/s",
        f(s.cpu, |t| t.songs_per_s, 3),
        f(s.gpu, |t| t.songs_per_s, 3),
    );
    row(
        out,
        "GPU speed-up (cpu / gpu wall)",
        String::new(),
        opt(s.speedup, |v| format!("{v:.2}×")),
    );
    row(
        out,
        "GPU kernel time per song (ms)",
        String::new(),
        opt(s.gpu_kernel_ms_per_song, |v| format!("{v:.3}")),
    );
    for st in &s.gpu_stages {
        row(
            out,
            &format!("  {} ms total / GB/s", st.stage),
            String::new(),
            format!("{:.2} / {}", st.total_ms, gbs(st.gb_per_s)),
        );
    }
    row(out, "parity max|gpu−cpu|", String::new(), parity(s.parity));
}

fn parity(p: Option<Parity>) -> String {
    opt(p.map(|p| p.max_abs), |v| {
        let p = Parity::of(v);
        let db = if v > 0.0 {
            format!("{:.1} dBFS", p.dbfs)
        } else {
            "exact".into()
        };
        format!(
            "{v:.2e} ({db}, {:.3} LSB24{})",
            p.lsb24,
            if p.within_bound { "" } else { ", OVER 2^-20" }
        )
    })
}

/// The report as the bench table.
pub fn render(r: &BenchReport) -> String {
    let o = &r.options;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mixfarm bench: {} songs × {} stems × {} s @ {} Hz (seed {}), {:.1} s of audio; \
         catalog generated in {:.2} s (not timed below)",
        r.songs, o.stems, o.seconds, o.sample_rate, o.seed, r.audio_s, r.catalog_s
    );
    let _ = writeln!(out, "CPU: {} rayon threads", r.cpu_threads);
    match (&r.gpu, &r.gpu_skipped) {
        (Some(g), _) => {
            let _ = writeln!(
                out,
                "GPU: {} ({}{}{})",
                g.adapter,
                g.backend,
                if g.software {
                    ", SOFTWARE adapter: these are not GPU figures"
                } else {
                    ""
                },
                if g.timestamps {
                    ""
                } else {
                    ", no timestamp queries"
                }
            );
        }
        (None, Some(why)) => {
            let _ = writeln!(out, "GPU: skipped: {why}");
        }
        (None, None) => {}
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  {:<W$} {:>14} {:>14}", "", "cpu", "gpu");
    let _ = writeln!(
        out,
        "mix (load, fader+pan, post-fader send to verb, verb bus, master fade-out)"
    );
    timing_rows(&mut out, &r.mix);
    if let (Some(c), Some(s)) = (&r.convolution_setup, &r.convolution) {
        let _ = writeln!(
            out,
            "convolution ({} s stereo IR = {} taps, {} partitions, over {} master channels, \
             full length)",
            c.ir_seconds, c.ir_frames, c.partitions, c.channels
        );
        timing_rows(&mut out, s);
        row(
            &mut out,
            "FFT bandwidth (GB/s)",
            String::new(),
            opt(r.fft_gb_per_s, gbs),
        );
        row(
            &mut out,
            "fft+mac+ifft bandwidth (GB/s)",
            String::new(),
            opt(r.convolve_gb_per_s, gbs),
        );
    }
    let _ = writeln!(
        out,
        "(GPU wall includes upload and read-back; bytes are counted as issued by each kernel, \
         see bench::workload)"
    );
    out
}
