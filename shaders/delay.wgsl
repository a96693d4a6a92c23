// Delay (feedback, loop low-pass, ping-pong) of a stereo pair, one thread per song, serial
// in time through the chunk. Twin of src/ops/delay/cpu.rs, per frame in the same order:
// read both lines at the ring position, low-pass them into w (when the filter is on), write
// the lines (ping-pong: the input's mid plus the right echo into the left line, the left
// echo into the right), output dry·x + wet·w, advance the ring. Parameter words:
// DelayParams (src/ops/delay/mod.rs); state: [ring position, w0, w1, line 0 (D), line 1
// (D)], D = max(delay_frames, 1).
@compute @workgroup_size(64)
fn delay(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let d = max(coefs[job.coef], 1u);
    let feedback = coef_f32(job.coef + 1u);
    let lowpass = coef_f32(job.coef + 2u);
    let lowpass_on = coefs[job.coef + 3u] == 1u;
    let wet = coef_f32(job.coef + 4u);
    let dry = coef_f32(job.coef + 5u);
    let ping_pong = coefs[job.coef + 6u] == 1u;
    var pos = state[job.state];
    var w0 = state_f32(job.state + 1u);
    var w1 = state_f32(job.state + 2u);
    let l0 = job.state + 3u;
    let l1 = l0 + d;
    for (var i = params.first; i < params.first + params.count; i++) {
        let d0 = state_f32(l0 + pos);
        let d1 = state_f32(l1 + pos);
        if lowpass_on {
            w0 = flush_denormal(w0 + lowpass * (d0 - w0));
            w1 = flush_denormal(w1 + lowpass * (d1 - w1));
        } else {
            w0 = d0;
            w1 = d1;
        }
        let xl = audio[job.ch0 + i];
        let xr = audio[job.ch1 + i];
        if ping_pong {
            set_state_f32(l0 + pos, flush_denormal((xl + xr) * 0.5 + feedback * w1));
            set_state_f32(l1 + pos, flush_denormal(feedback * w0));
        } else {
            set_state_f32(l0 + pos, flush_denormal(xl + feedback * w0));
            set_state_f32(l1 + pos, flush_denormal(xr + feedback * w1));
        }
        audio[job.ch0 + i] = flush_denormal(dry * xl + wet * w0);
        audio[job.ch1 + i] = flush_denormal(dry * xr + wet * w1);
        pos += 1u;
        if pos == d {
            pos = 0u;
        }
    }
    state[job.state] = pos;
    set_state_f32(job.state + 1u, w0);
    set_state_f32(job.state + 2u, w1);
}
