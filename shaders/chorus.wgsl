// Chorus, one thread per song x channel, serial in time through the chunk. Twin of
// src/ops/chorus/cpu.rs, per frame in the same order: the dry input into the ring, then per
// voice the LFO (table lookup, linear interpolation, u32 fixed-point phase), the fractional
// delay read by linear interpolation, summed over the voices; out = dry·x + wet·(acc·1/V).
// Parameter words: ChorusParams (src/ops/chorus/mod.rs), the ring length R (a power of
// two), the phase offsets (channel-major), the LFO table; state per lane: the frame clock,
// then the ring of R dry frames.
const LFO_TABLE_BITS: u32 = 12u;

@compute @workgroup_size(64)
fn chorus(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let phase_inc = coefs[job.coef];
    let voices = coefs[job.coef + 1u];
    let delay = coef_f32(job.coef + 2u);
    let depth = coef_f32(job.coef + 3u);
    let voice_gain = coef_f32(job.coef + 4u);
    let wet = coef_f32(job.coef + 5u);
    let dry = coef_f32(job.coef + 6u);
    let ring_len = coefs[job.coef + 8u];
    let offsets = job.coef + 9u + min(job.lane, 1u) * voices;
    let table = job.coef + 9u + 2u * voices;
    let frac_bits = 32u - LFO_TABLE_BITS;
    let frac_mask = (1u << frac_bits) - 1u;
    let frac_scale = 1.0 / f32(1u << frac_bits);
    let mask = ring_len - 1u;
    let st = job.state + job.lane * (1u + ring_len);
    let ring = st + 1u;
    let x = select(job.ch0, job.ch1, job.lane == 1u);
    let pos = state[st];
    for (var i = params.first; i < params.first + params.count; i++) {
        let n = pos + i;
        let v = audio[x + i];
        set_state_f32(ring + (n & mask), v);
        var acc = 0.0f;
        for (var k = 0u; k < voices; k++) {
            let phase = coefs[offsets + k] + n * phase_inc;
            let ti = phase >> frac_bits;
            let fr = f32(phase & frac_mask) * frac_scale;
            let t0 = coef_f32(table + ti);
            let s = t0 + fr * (coef_f32(table + ti + 1u) - t0);
            let d = delay + depth * s;
            let kd = u32(d);
            let t = d - f32(kd);
            let a = state_f32(ring + ((n - kd) & mask));
            let b = state_f32(ring + ((n - kd - 1u) & mask));
            acc += a + t * (b - a);
        }
        audio[x + i] = dry * v + wet * (acc * voice_gain);
    }
    if params.first + params.count == job.frames {
        state[st] = pos + job.frames;
    }
}
