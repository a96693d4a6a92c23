// Width and bass mono of a stereo pair, one thread per song, serial in time through the
// chunk. Twin of src/ops/width/cpu.rs: per frame m = (l + r)·0.5, s = (l − r)·side_gain;
// with bass mono m passes the mid all-pass section and s the two side high-pass sections
// (sections.wgsl); l = m + s, r = m − s. Parameter words: side_gain, unchanged (u32),
// bass mono (u32), then the mid section and the two side sections (6 words each); state:
// [ic1, ic2] of the mid section, then of the two side sections.
@compute @workgroup_size(64)
fn width(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    if coefs[job.coef + 1u] != 0u {
        return;
    }
    let side_gain = coef_f32(job.coef);
    let bass = coefs[job.coef + 2u] != 0u;
    let c = job.coef + 3u;
    for (var i = params.first; i < params.first + params.count; i++) {
        let l = audio[job.ch0 + i];
        let r = audio[job.ch1 + i];
        var m = (l + r) * 0.5;
        var s = (l - r) * side_gain;
        if bass {
            m = section_tick(m, c, job.state);
            s = section_tick(s, c + 6u, job.state + 2u);
            s = section_tick(s, c + 12u, job.state + 4u);
        }
        audio[job.ch0 + i] = m + s;
        audio[job.ch1 + i] = m - s;
    }
}
