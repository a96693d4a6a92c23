// Plan `Load` stage, batched: copies a decoded source channel into a song buffer channel,
// zero-padding to the song length: audio[dst + i] = i < src_frames ? sources[src + i] : 0.
// Twin of the Load arm of render::cpu.
struct Params {
    n_jobs: u32,
    groups_per_job: u32,
    _pad0: u32,
    _pad1: u32,
}

struct LoadJob {
    dst_offset: u32,
    src_offset: u32,
    src_frames: u32,
    dst_frames: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jobs: array<LoadJob>;
@group(0) @binding(2) var<storage, read> sources: array<f32>;
@group(0) @binding(3) var<storage, read_write> audio: array<f32>;

@compute @workgroup_size(256)
fn load(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    let j = w / params.groups_per_job;
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let base = (w % params.groups_per_job) * 1024u;
    for (var r = 0u; r < 4u; r++) {
        let i = base + r * 256u + lid;
        if i < job.dst_frames {
            var v = 0.0;
            if i < job.src_frames {
                v = sources[job.src_offset + i];
            }
            audio[job.dst_offset + i] = v;
        }
    }
}
