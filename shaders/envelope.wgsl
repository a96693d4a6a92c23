// Piecewise-linear gain curves, batched: channel[n] *= gain0 + slope * f32(n - start_frame)
// inside the segment [start_frame, end_frame) holding n (segments of a job are sorted and
// disjoint; frames outside every segment are left alone; a segment may start before the
// buffer, a time chunk, begins). Twin of src/ops/envelope/cpu.rs.
struct Params {
    n_jobs: u32,
    groups_per_job: u32,
    _pad0: u32,
    _pad1: u32,
}

struct EnvelopeJob {
    offset: u32,
    frames: u32,
    seg_first: u32,
    seg_count: u32,
}

struct Segment {
    start_frame: i32,
    end_frame: i32,
    gain0: f32,
    slope: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jobs: array<EnvelopeJob>;
@group(0) @binding(2) var<storage, read> segments: array<Segment>;
@group(0) @binding(3) var<storage, read_write> audio: array<f32>;

@compute @workgroup_size(256)
fn envelope(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    let j = w / params.groups_per_job;
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let base = (w % params.groups_per_job) * 1024u;
    for (var r = 0u; r < 4u; r++) {
        let n = base + r * 256u + lid;
        if n >= job.frames || job.seg_count == 0u {
            continue;
        }
        // last segment with start_frame <= n
        var lo = 0u;
        var hi = job.seg_count;
        while hi - lo > 1u {
            let mid = (lo + hi) / 2u;
            if segments[job.seg_first + mid].start_frame <= i32(n) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let seg = segments[job.seg_first + lo];
        if i32(n) >= seg.start_frame && i32(n) < seg.end_frame {
            let g = seg.gain0 + seg.slope * f32(i32(n) - seg.start_frame);
            audio[job.offset + n] *= g;
        }
    }
}
