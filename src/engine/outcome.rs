//! Honest outcomes, for both commands: a delivery promise that cannot be kept is refused
//! before any work ([`check_delivery`]), and a song whose output misses its target or needs
//! more limiting than allowed ends with a warning naming why ([`warnings`]) instead of a
//! success it did not earn. Host only; no shader.

/// Largest gain reduction of the closing limiter before a song is flagged, dB (the
/// `--max-reduction` default of `render` and `master`).
pub const DEFAULT_MAX_REDUCTION_DB: f64 = 12.0;
/// Largest distance between a song's output loudness and its target before it is flagged, LU.
pub const MISS_TOLERANCE_LU: f64 = 0.1;

/// Refuses a target above 0 LUFS, a non-finite target or ceiling, and a ceiling above
/// 0 dBTP unless every output format is float (an integer format clips at full scale, so
/// such a ceiling cannot hold). `what` names the delivery or song in the message.
pub fn check_delivery(
    what: &str,
    target_lufs: f64,
    ceiling_dbtp: f64,
    float_only: bool,
) -> Result<(), String> {
    if !target_lufs.is_finite() || target_lufs > 0.0 {
        return Err(format!(
            "{what}: target {target_lufs} LUFS is not reachable (targets are at most 0 LUFS)"
        ));
    }
    if !ceiling_dbtp.is_finite() {
        return Err(format!(
            "{what}: ceiling must be finite, got {ceiling_dbtp}"
        ));
    }
    if ceiling_dbtp > 0.0 && !float_only {
        return Err(format!(
            "{what}: ceiling {ceiling_dbtp:+} dBTP is above full scale, which an integer \
             format cannot hold (it clips at 0 dBFS); use ≤ 0 dBTP or a float format"
        ));
    }
    Ok(())
}

/// Why a finished song is not what was asked: the loudness of what the target applies to
/// (`scope`: the song, or its album) more than [`MISS_TOLERANCE_LU`] off `target_lufs`,
/// unmeasurable against a target, or its limiter working harder than `max_reduction_db`.
/// Empty when the song is as asked.
pub fn warnings(
    scope: &str,
    target_lufs: Option<f64>,
    output_lufs: Option<f64>,
    limiter_reduction_db: Option<f64>,
    max_reduction_db: f64,
) -> Vec<String> {
    let mut w = Vec::new();
    match (target_lufs, output_lufs) {
        (Some(t), Some(o)) if (o - t).abs() > MISS_TOLERANCE_LU => w.push(format!(
            "{scope} missed the target: {o:.2} LUFS for {t:.1} LUFS ({:+.2} LU)",
            o - t
        )),
        (Some(t), None) => w.push(format!(
            "{scope} loudness unmeasurable (silent or under 400 ms), target {t:.1} LUFS not reached"
        )),
        _ => {}
    }
    if let Some(gr) = limiter_reduction_db.filter(|&gr| gr > max_reduction_db) {
        w.push(format!(
            "limiter gain reduction {gr:.1} dB exceeds the allowed {max_reduction_db:.1} dB"
        ));
    }
    w
}
