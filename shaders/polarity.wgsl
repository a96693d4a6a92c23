// Polarity invert, batched: audio[i] = -audio[i] for every job (one channel of one song)
// whose params[channel] is non-zero. Twin of src/ops/polarity/cpu.rs; the elementwise
// operators' binding layout (src/gpu/elementwise_ops.rs). Workgroup w handles frames
// (w % groups_per_job) * 1024 .. of job w / groups_per_job.
struct Params {
    n_jobs: u32,
    groups_per_job: u32,
    _pad0: u32,
    _pad1: u32,
}

struct ElementwiseJob {
    offset: u32,
    frames: u32,
    channel: u32,
    _pad: u32,
    params: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jobs: array<ElementwiseJob>;
@group(0) @binding(2) var<storage, read_write> audio: array<f32>;

@compute @workgroup_size(256)
fn polarity(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    let j = w / params.groups_per_job;
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    if job.params[job.channel] == 0.0 {
        return;
    }
    let base = (w % params.groups_per_job) * 1024u;
    for (var r = 0u; r < 4u; r++) {
        let i = base + r * 256u + lid;
        if i < job.frames {
            audio[job.offset + i] = -audio[job.offset + i];
        }
    }
}
