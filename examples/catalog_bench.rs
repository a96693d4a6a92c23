//! Times the benchmark catalog generator:
//! `cargo run --release --example catalog_bench -- SONGS STEMS SECONDS [RATE]`.

fn main() {
    let arg = |i: usize, d: f64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(d)
    };
    let (songs, stems, seconds, rate) = (
        arg(1, 4.0) as usize,
        arg(2, 16.0) as usize,
        arg(3, 60.0),
        arg(4, 48000.0) as u32,
    );
    let t = std::time::Instant::now();
    let cat = mixfarm::synth::catalog(songs, stems, seconds, rate, 7);
    let wall_s = t.elapsed().as_secs_f64();
    let samples: usize = cat.iter().flatten().flatten().map(Vec::len).sum();
    println!(
        "catalog {songs} songs x {stems} stems x {seconds} s @ {rate} Hz: {:.2} s wall, {:.2} GB f32, {} threads",
        wall_s,
        samples as f64 * 4.0 / 1e9,
        rayon::current_num_threads()
    );
}
