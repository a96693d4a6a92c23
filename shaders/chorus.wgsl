// Chorus, one thread per song x channel, serial in time through the chunk. Twin of
// src/ops/chorus/cpu.rs, per frame in the same order: the dry input into the ring, then per
// voice the LFO (u32 fixed-point phase, table lookup and linear interpolation in i32 fixed
// point: the delay in frames·2^DELAY_FRAC_BITS, exact integer arithmetic), the fractional
// delay read by linear interpolation, summed over the voices; out = dry·x + wet·(acc·1/V).
// Parameter words: ChorusParams (src/ops/chorus/mod.rs), the ring length R (a power of
// two), the phase offsets (channel-major), the LFO table (i32, depth-scaled); state per
// lane: the frame clock, then the ring of R dry frames.
const LFO_TABLE_BITS: u32 = 12u;
const DELAY_FRAC_BITS: u32 = 15u;

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
    let centre = bitcast<i32>(coefs[job.coef + 2u]);
    let voice_gain = coef_f32(job.coef + 4u);
    let wet = coef_f32(job.coef + 5u);
    let dry = coef_f32(job.coef + 6u);
    let ring_len = coefs[job.coef + 8u];
    let offsets = job.coef + 9u + min(job.lane, 1u) * voices;
    let table = job.coef + 9u + 2u * voices;
    let index_shift = 32u - LFO_TABLE_BITS;
    let delay_mask = (1i << DELAY_FRAC_BITS) - 1i;
    let delay_scale = 1.0 / f32(1u << DELAY_FRAC_BITS);
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
            let ti = phase >> index_shift;
            let f = i32((phase >> 4u) & 0xffffu);
            let t0 = bitcast<i32>(coefs[table + ti]);
            let step = bitcast<i32>(coefs[table + ti + 1u]) - t0;
            let s = t0 + (((f >> 8u) * step) >> 8u) + (((f & 0xffi) * step) >> 16u);
            let d = max(centre + s, 0i);
            let kd = u32(d >> DELAY_FRAC_BITS);
            let t = f32(d & delay_mask) * delay_scale;
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
