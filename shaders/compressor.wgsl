// Compressor, stereo-linked, one thread per song, serial in time through the chunk. Twin of
// src/ops/compressor/cpu.rs: per frame the gain of dynamics.wgsl from the key (the
// sidechain buffer when the stage has one, else the input), applied to both channels.
// Parameter words: CompressorParams (src/ops/compressor/mod.rs); state: [smoothed gain,
// mean square].
@compute @workgroup_size(64)
fn compressor(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let p = load_comp(job.coef);
    var s = state_f32(job.state);
    var ms = state_f32(job.state + 1u);
    for (var i = params.first; i < params.first + params.count; i++) {
        let g = comp_gain(p, audio[job.key0 + i], audio[job.key1 + i], &s, &ms);
        audio[job.ch0 + i] *= g;
        audio[job.ch1 + i] *= g;
    }
    set_state_f32(job.state, s);
    set_state_f32(job.state + 1u, ms);
}
