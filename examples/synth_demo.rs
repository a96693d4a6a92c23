//! Writes the synthesised demo album (stems + scene files) into a folder:
//! `cargo run --release --example synth_demo -- scenes/demo`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "scenes/demo".to_string());
    let t = std::time::Instant::now();
    mixfarm::synth::write_demo(std::path::Path::new(&dir))?;
    println!("wrote {dir} in {:.2} s", t.elapsed().as_secs_f64());
    Ok(())
}
