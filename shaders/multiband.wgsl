// Multiband compressor with a Linkwitz-Riley crossover, one thread per song, serial in time
// through the chunk. Twin of src/ops/multiband/cpu.rs (split by src/ops/crossover/cpu.rs),
// per frame in the same order: each channel split into N + 1 bands (band i = the rest
// through the two low-pass sections of crossover i, the rest through its two high-pass
// sections, band i then through the all-pass sections of the crossovers above it; the last
// band is the rest), each band compressed by its own stereo-linked compressor
// (dynamics.wgsl) once the lead-in has passed, the bands summed low to high. Parameter
// words: N, the N + 1 CompressorParams (12 words each), the low-pass sections (N × 2), the
// high-pass sections (N × 2), the all-pass sections (N); state: the lead-in countdown, each
// band's [smoothed gain, mean square], then per channel the low, high and all-pass section
// states.
const MAX_BANDS: u32 = 5u;
const COMP_WORDS: u32 = 12u;

@compute @workgroup_size(64)
fn multiband(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let n = coefs[job.coef];
    let comps = job.coef + 1u;
    let low = comps + (n + 1u) * COMP_WORDS;
    let high = low + 12u * n;
    let ap = high + 12u * n;
    // per channel: low (4 words per crossover), high (4), all-pass (2 per section)
    let chan_words = 8u * n + n * (n - 1u);
    var lead_in = state[job.state];
    let cst = job.state + 1u;
    let sst = cst + 2u * (n + 1u);
    var s: array<f32, MAX_BANDS>;
    var ms: array<f32, MAX_BANDS>;
    for (var b = 0u; b <= n; b++) {
        s[b] = state_f32(cst + 2u * b);
        ms[b] = state_f32(cst + 2u * b + 1u);
    }
    for (var i = params.first; i < params.first + params.count; i++) {
        var bands: array<vec2<f32>, MAX_BANDS>;
        for (var c = 0u; c < 2u; c++) {
            var rest = audio[select(job.ch0, job.ch1, c == 1u) + i];
            let base = sst + c * chan_words;
            var apw = base + 8u * n;
            for (var k = 0u; k < n; k++) {
                var band = rest;
                band = section_tick(band, low + 12u * k, base + 4u * k);
                band = section_tick(band, low + 12u * k + 6u, base + 4u * k + 2u);
                rest = section_tick(rest, high + 12u * k, base + 4u * n + 4u * k);
                rest = section_tick(rest, high + 12u * k + 6u, base + 4u * n + 4u * k + 2u);
                for (var a = k + 1u; a < n; a++) {
                    band = section_tick(band, ap + 6u * a, apw);
                    apw += 2u;
                }
                bands[k][c] = band;
            }
            bands[n][c] = rest;
        }
        if lead_in > 0u {
            lead_in -= 1u;
        } else {
            for (var b = 0u; b <= n; b++) {
                let p = load_comp(comps + b * COMP_WORDS);
                var sb = s[b];
                var msb = ms[b];
                let g = comp_gain(p, bands[b].x, bands[b].y, &sb, &msb);
                s[b] = sb;
                ms[b] = msb;
                bands[b] *= g;
            }
        }
        var out = vec2<f32>(0.0, 0.0);
        for (var b = 0u; b <= n; b++) {
            out.x += bands[b].x;
            out.y += bands[b].y;
        }
        audio[job.ch0 + i] = out.x;
        audio[job.ch1 + i] = out.y;
    }
    state[job.state] = lead_in;
    for (var b = 0u; b <= n; b++) {
        set_state_f32(cst + 2u * b, s[b]);
        set_state_f32(cst + 2u * b + 1u, ms[b]);
    }
}

// After a linear-phase split (the convolution engine's lanes, copied into this stage's band
// area): each band compressed by its stereo-linked compressor once the lead-in has passed,
// the bands summed low to high. Twin of `finish_chunk` in src/ops/multiband/cpu.rs.
// Parameter words: the band count B, the B CompressorParams; state: the lead-in countdown,
// each band's [smoothed gain, mean square], then from word BAND_AREA the bands
// [band][channel][chunk frame].
const BAND_AREA: u32 = 11u;

@compute @workgroup_size(64)
fn multiband_bands(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = job_index(lid, wid, nwg);
    if j >= params.n_jobs {
        return;
    }
    let job = jobs[j];
    let nb = coefs[job.coef];
    let comps = job.coef + 1u;
    var lead_in = state[job.state];
    let cst = job.state + 1u;
    let area = job.state + BAND_AREA;
    var s: array<f32, MAX_BANDS>;
    var ms: array<f32, MAX_BANDS>;
    for (var b = 0u; b < nb; b++) {
        s[b] = state_f32(cst + 2u * b);
        ms[b] = state_f32(cst + 2u * b + 1u);
    }
    for (var i = params.first; i < params.first + params.count; i++) {
        var out = vec2<f32>(0.0, 0.0);
        let skip = lead_in > 0u;
        if skip {
            lead_in -= 1u;
        }
        for (var b = 0u; b < nb; b++) {
            var v = vec2<f32>(state_f32(area + (2u * b) * job.frames + i),
                              state_f32(area + (2u * b + 1u) * job.frames + i));
            if !skip {
                let p = load_comp(comps + b * COMP_WORDS);
                var sb = s[b];
                var msb = ms[b];
                let g = comp_gain(p, v.x, v.y, &sb, &msb);
                s[b] = sb;
                ms[b] = msb;
                v *= g;
            }
            out.x += v.x;
            out.y += v.y;
        }
        audio[job.ch0 + i] = out.x;
        audio[job.ch1 + i] = out.y;
    }
    state[job.state] = lead_in;
    for (var b = 0u; b < nb; b++) {
        set_state_f32(cst + 2u * b, s[b]);
        set_state_f32(cst + 2u * b + 1u, ms[b]);
    }
}
