// True-peak limiter, stereo-linked, in three passes per chunk. Twin of
// src/ops/limiter/cpu.rs (detector: src/ops/oversample/cpu.rs), each frame's arithmetic in
// the same order:
//   limiter_feed    (one thread per song x frame) appends the chunk's input to the line;
//   limiter_half    (one thread per song x frame) the 2× stage's half points (HALF_TAPS
//                   symmetric taps, summed folded in index order), both channels;
//   limiter_detect  (one thread per song x frame) the oversampled peak e of the frame
//                   `K/2` behind it, both channels: from the nine half points and eight
//                   samples around it, the seven phases of the 8× stage (FINE_TAPS taps),
//                   the largest |value|;
//   limiter         (one thread per song, serial) the quantised required gain from the
//                   pair max of e, the hold (a monotonic deque: the exact sliding minimum
//                   over L + 1 frames), the window sum (exact i32), the release one-pole,
//                   the gain 2^g on the input delayed by the latency; then it slides the
//                   line.
// Parameter words: LimiterParams (src/ops/limiter/mod.rs), the line history H, the latency
// (L + K/2), the interpolator taps (2× stage, then 7 × FINE_TAPS), the report's hop and
// hop count (0 without a report). State: the header (frames fed, the song's end, the
// previous e, the window sum, g, the lowest g, the deque's head and length), the window
// ring (L + 1), the deque (L + 2 pairs), e (one chunk), per channel the line (H + chunk
// frames), per channel the half points (chunk frames + 8), then the report: the lag of the
// input behind the song, per hop the lowest g, per hop the input's oversampled peak.
const HALF_TAPS: u32 = 1024u;
const FINE_TAPS: u32 = 16u;
const FINE_PHASES: u32 = 7u;
// K = SPAN = 2·(HALF_TAPS/2 + FINE_TAPS/4)
const SPAN: u32 = 1032u;
const Q_PER_L2: f32 = 4096.0;
const MAX_REDUCTION_L2: f32 = 30.0;
const HEADER: u32 = 8u;

struct Lim {
    target_l2: f32,
    release: f32,
    sum_scale: f32,
    l: u32,
    hist: u32,
    lat: u32,
    taps: u32,
}

fn load_lim(c: u32) -> Lim {
    return Lim(coef_f32(c), coef_f32(c + 1u), coef_f32(c + 2u), coefs[c + 3u], coefs[c + 4u],
               coefs[c + 5u], c + 6u);
}

// Where the parts of a song's state start.
fn ring_at(job: RecJob, p: Lim) -> u32 {
    return job.state + HEADER;
}
fn deque_at(job: RecJob, p: Lim) -> u32 {
    return ring_at(job, p) + p.l + 1u;
}
fn e_at(job: RecJob, p: Lim) -> u32 {
    return deque_at(job, p) + 2u * (p.l + 2u);
}
fn line_at(job: RecJob, p: Lim, c: u32) -> u32 {
    return e_at(job, p) + job.frames + c * (p.hist + job.frames);
}
// the half-band points of channel c: frames + 8 of them
fn half_at(job: RecJob, p: Lim, c: u32) -> u32 {
    return line_at(job, p, 2u) + c * (job.frames + 8u);
}

// The 2× stage at line position w: its HALF_TAPS symmetric taps summed folded in index
// order, acc += h_j·(x_j + x_{HALF_TAPS−1−j}) for j < HALF_TAPS/2.
fn half_point(p: Lim, w: u32) -> f32 {
    var acc = 0.0f;
    for (var jj = 0u; jj < HALF_TAPS / 2u; jj++) {
        acc += coef_f32(p.taps + jj) * (state_f32(w + jj) + state_f32(w + HALF_TAPS - 1u - jj));
    }
    return acc;
}

@compute @workgroup_size(64)
fn limiter_half(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = job_index(lid, wid, nwg);
    let j = t / params.frames;
    if j >= params.n_jobs {
        return;
    }
    let i = t % params.frames;
    let job = jobs[j];
    let p = load_lim(job.coef);
    let off = p.hist + 1u - SPAN;
    for (var c = 0u; c < 2u; c++) {
        let line = line_at(job, p, c) + off;
        let half = half_at(job, p, c);
        set_state_f32(half + i, half_point(p, line + i));
        if i < 8u {
            set_state_f32(half + job.frames + i, half_point(p, line + job.frames + i));
        }
    }
}

@compute @workgroup_size(64)
fn limiter_feed(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = job_index(lid, wid, nwg);
    let j = t / params.frames;
    if j >= params.n_jobs {
        return;
    }
    let i = t % params.frames;
    let job = jobs[j];
    let p = load_lim(job.coef);
    set_state_f32(line_at(job, p, 0u) + p.hist + i, audio[job.ch0 + i]);
    set_state_f32(line_at(job, p, 1u) + p.hist + i, audio[job.ch1 + i]);
}

// The oversampled peak of one channel at chunk frame i: `w` is the line position of the
// window's first sample, x[t − K/2 + 1]; `h` that of its first half point (limiter_half).
fn channel_peak(p: Lim, w: u32, h: u32) -> f32 {
    // u[k] = the 2× point k + 2i + 1 of the CPU twin's block (k = 0 … 16): odd k the
    // samples x[w + 127 + (k + 1)/2], even k the half points
    var u: array<f32, 17>;
    for (var a = 0u; a < 9u; a++) {
        u[2u * a] = state_f32(h + a);
    }
    for (var a = 1u; a < 9u; a++) {
        u[2u * a - 1u] = state_f32(w + a + HALF_TAPS / 2u - 1u);
    }
    var v0 = abs(u[7]);
    var v1 = abs(u[8]);
    for (var ph = 0u; ph < FINE_PHASES; ph++) {
        let f = p.taps + HALF_TAPS + ph * FINE_TAPS;
        var a0 = 0.0f;
        var a1 = 0.0f;
        for (var jj = 0u; jj < FINE_TAPS; jj++) {
            let h = coef_f32(f + jj);
            a0 += h * u[jj];
            a1 += h * u[jj + 1u];
        }
        v0 = max(v0, abs(a0));
        v1 = max(v1, abs(a1));
    }
    return max(v0, v1);
}

@compute @workgroup_size(64)
fn limiter_detect(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = job_index(lid, wid, nwg);
    let j = t / params.frames;
    if j >= params.n_jobs {
        return;
    }
    let i = t % params.frames;
    let job = jobs[j];
    let p = load_lim(job.coef);
    // window of chunk frame i: line[hist + 1 − SPAN + i ..]
    let off = p.hist + 1u - SPAN + i;
    var e = 0.0f;
    e = max(e, channel_peak(p, line_at(job, p, 0u) + off, half_at(job, p, 0u) + i));
    e = max(e, channel_peak(p, line_at(job, p, 1u) + off, half_at(job, p, 1u) + i));
    set_state_f32(e_at(job, p) + i, e);
}

@compute @workgroup_size(64)
fn limiter(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let p = load_lim(job.coef);
    let h = job.state;
    let fed = state[h];
    let end = state[h + 1u];
    var prev_e = state_f32(h + 2u);
    var sum = bitcast<i32>(state[h + 3u]);
    var g = state_f32(h + 4u);
    var min_g = state_f32(h + 5u);
    var head = state[h + 6u];
    var len = state[h + 7u];
    let ring = ring_at(job, p);
    let dq = deque_at(job, p);
    let cap = p.l + 2u;
    let e_base = e_at(job, p);
    let l0 = line_at(job, p, 0u);
    let l1 = line_at(job, p, 1u);
    let half = SPAN / 2u;
    let floor_l2 = -MAX_REDUCTION_L2;
    // the report (hop 0: none): per hop of the song, the lowest g, then the input's peak
    let trace_hop = coefs[p.taps + HALF_TAPS + FINE_PHASES * FINE_TAPS];
    let hops = coefs[p.taps + HALF_TAPS + FINE_PHASES * FINE_TAPS + 1u];
    let tracing = trace_hop > 0u && hops > 0u;
    let trace = half_at(job, p, 2u);
    let lag = state[trace];
    let gains_at = trace + 1u;
    let peaks_at = gains_at + hops;
    for (var i = params.first; i < params.first + params.count; i++) {
        let f = fed + i;
        let e = state_f32(e_base + i);
        // the input's peak of song frame f − K/2 − lag, from −K/2 to the song's end + K/2
        // (clamped into the first and the last hop)
        if tracing && f >= lag && f < end + SPAN {
            let sf = f - lag;
            let b = peaks_at + min(select(0u, sf - half, sf >= half) / trace_hop, hops - 1u);
            set_state_f32(b, max(state_f32(b), e));
        }
        // the detector frame t = f − K/2: t = −1 seeds the pair max, t ≥ 0 runs the gain
        if f + 1u == half {
            prev_e = e;
        }
        if f < half {
            continue;
        }
        let tt = f - half;
        if tt < end {
            let pk = max(prev_e, e);
            prev_e = e;
            let r = max(min(p.target_l2 - log2_approx(pk), 0.0), floor_l2);
            let qt = floor_i32(r * Q_PER_L2);
            // hold: drop the back while it is ≥ q, push (t, q)
            loop {
                if len == 0u {
                    break;
                }
                let back = dq + 2u * ((head + len - 1u) % cap);
                if bitcast<i32>(state[back + 1u]) < qt {
                    break;
                }
                len -= 1u;
            }
            let slot = dq + 2u * ((head + len) % cap);
            state[slot] = tt;
            state[slot + 1u] = bitcast<u32>(qt);
            len += 1u;
        }
        // window [t − L, t]
        loop {
            if len == 0u {
                break;
            }
            if state[dq + 2u * head] + p.l >= tt {
                break;
            }
            head = (head + 1u) % cap;
            len -= 1u;
        }
        var m = 0;
        if len > 0u {
            m = bitcast<i32>(state[dq + 2u * head + 1u]);
        }
        let rs = ring + tt % (p.l + 1u);
        sum += m - bitcast<i32>(state[rs]);
        state[rs] = bitcast<u32>(m);
        let a = f32(sum) * p.sum_scale;
        if a <= g {
            g = a;
        } else {
            g = flush_denormal(g + p.release * (a - g));
        }
        // output frame n = f − latency
        if f < p.lat {
            continue;
        }
        if f - p.lat < end {
            min_g = min(min_g, g);
            if tracing && f - p.lat >= lag {
                let b = gains_at + min((f - p.lat - lag) / trace_hop, hops - 1u);
                set_state_f32(b, min(state_f32(b), g));
            }
        }
        let gain = exp2_approx(g);
        let src = p.hist - p.lat + i;
        audio[job.ch0 + i] = state_f32(l0 + src) * gain;
        audio[job.ch1 + i] = state_f32(l1 + src) * gain;
    }
    // frames before the output starts are the silence before the song
    let quiet_end = min(params.first + params.count, p.lat - min(fed, p.lat));
    for (var i = params.first; i < quiet_end; i++) {
        audio[job.ch0 + i] = state_f32(l0 + p.hist - p.lat + i);
        audio[job.ch1 + i] = state_f32(l1 + p.hist - p.lat + i);
    }
    // after the chunk's last frames: slide the line (its last H frames become the
    // history) and count the chunk as fed
    if params.first + params.count == job.frames {
        for (var k = 0u; k < p.hist; k++) {
            state[l0 + k] = state[l0 + job.frames + k];
            state[l1 + k] = state[l1 + job.frames + k];
        }
        state[h] = fed + job.frames;
    }
    set_state_f32(h + 2u, prev_e);
    state[h + 3u] = bitcast<u32>(sum);
    set_state_f32(h + 4u, g);
    set_state_f32(h + 5u, min_g);
    state[h + 6u] = head;
    state[h + 7u] = len;
}
