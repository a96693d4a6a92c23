// The loudness meter's signal stage: per channel, the two K-weighting sections
// (sections.wgsl) and the sum of squares of every sub-block, in f32, in time order, kept in
// the state for the host to read back after the song. Twin of `meter::cpu::process_chunk`
// in src/ops/meter/cpu.rs (the sections as `run_sections_state`, then acc = y·y + acc). One
// thread per song x channel, serial in time through the chunk; the audio is left as it is.
// Parameter words: sub-block frames, sub-blocks per lane, then a1 a2 a3 m0 m1 m2 of the
// shelf and of the high-pass. State: the song's [start, end) in the input frames, then per
// lane: [ic1, ic2] of each section, the sum in progress (f32), its frames, the input frames
// seen, the energies written, the largest |sample| of the song (f32), then one word per
// sub-block.
const METER_LANE_HEADER: u32 = 9u;

@compute @workgroup_size(64)
fn meter(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let sub = coefs[job.coef];
    let n_sub = coefs[job.coef + 1u];
    let k = job.coef + 2u;
    let start = state[job.state];
    let end = state[job.state + 1u];
    let st = job.state + 2u + job.lane * (METER_LANE_HEADER + n_sub);
    let x = select(job.ch0, job.ch1, job.lane == 1u);
    var acc = state_f32(st + 4u);
    var filled = state[st + 5u];
    var pos = state[st + 6u];
    var count = state[st + 7u];
    var peak = state_f32(st + 8u);
    for (var i = params.first; i < params.first + params.count; i++) {
        if pos >= start && pos < end {
            var v = audio[x + i];
            peak = max(peak, abs(v));
            v = section_tick(v, k, st);
            v = section_tick(v, k + 6u, st + 2u);
            acc = v * v + acc;
            filled += 1u;
            if filled == sub {
                set_state_f32(st + METER_LANE_HEADER + count, acc);
                count += 1u;
                acc = 0.0;
                filled = 0u;
            }
        }
        pos += 1u;
    }
    set_state_f32(st + 4u, acc);
    state[st + 5u] = filled;
    state[st + 6u] = pos;
    state[st + 7u] = count;
    set_state_f32(st + 8u, peak);
}
