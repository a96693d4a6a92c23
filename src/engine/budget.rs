//! `--memory-budget`: how much memory one GPU batch (songs × one time chunk: chunk buffers,
//! source chunks, convolution state) may take, and the masters one run keeps on the GPU
//! for a later Plan together ([`crate::gpu::Resident`]). Sizes are written `4G`, `512M`, `64K` or in
//! bytes; the default comes from the machine ([`default_bytes`]). The CLI sets it once per
//! process ([`set`]); [`super::Executor::open`] gives it to the GPU executor, which packs
//! songs into batches within it and within the adapter's binding limits.

use std::sync::atomic::{AtomicU64, Ordering};

static BUDGET: AtomicU64 = AtomicU64::new(0);

/// Parses a size: a number with an optional `K`, `M`, `G` or `T` suffix (powers of 1024,
/// an optional trailing `B`/`iB` accepted).
pub fn parse(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.trim_end_matches("IB").trim_end_matches('B');
    let (num, shift) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 10),
        Some('M') => (&t[..t.len() - 1], 20),
        Some('G') => (&t[..t.len() - 1], 30),
        Some('T') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad size '{s}' (want e.g. 4G, 512M or bytes)"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("bad size '{s}': must be positive"));
    }
    Ok((v * (1u64 << shift) as f64) as u64)
}

/// The default: a quarter of the machine's memory (`/proc/meminfo`), between 512 MiB and
/// 8 GiB; 2 GiB where the machine does not say.
pub fn default_bytes() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    total.map_or(2 << 30, |t| (t / 4).clamp(512 << 20, 8 << 30))
}

/// Sets this process's budget (`--memory-budget`).
pub fn set(bytes: u64) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// This process's budget: what [`set`] stored, else [`default_bytes`].
pub fn get() -> u64 {
    match BUDGET.load(Ordering::Relaxed) {
        0 => default_bytes(),
        b => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse("4G"), Ok(4 << 30));
        assert_eq!(parse("512M"), Ok(512 << 20));
        assert_eq!(parse("1.5k"), Ok(1536));
        assert_eq!(parse("2GiB"), Ok(2 << 30));
        assert_eq!(parse("1000"), Ok(1000));
        assert!(parse("lots").is_err() && parse("0").is_err() && parse("-1G").is_err());
        let d = default_bytes();
        assert!((512 << 20..=8 << 30).contains(&d), "{d}");
    }
}
