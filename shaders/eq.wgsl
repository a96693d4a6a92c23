// Minimum-phase EQ: the cascade of state-variable sections over one channel, sample by
// sample through every section (sections.wgsl), one thread per song x channel, serial in
// time through the chunk. Twin of `run_sections_state` in src/ops/eq/cpu.rs. Parameter words:
// the section count, then c1 a2 a3 m0 m1 m2 per section; state per lane: [ic1, ic2] per
// section.
@compute @workgroup_size(64)
fn eq(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
      @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let n = coefs[job.coef];
    let st = job.state + job.lane * 2u * n;
    let x = select(job.ch0, job.ch1, job.lane == 1u);
    for (var i = params.first; i < params.first + params.count; i++) {
        var v = audio[x + i];
        for (var k = 0u; k < n; k++) {
            v = section_tick(v, job.coef + 1u + 6u * k, st + 2u * k);
        }
        audio[x + i] = v;
    }
}
