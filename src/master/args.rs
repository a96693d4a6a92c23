//! The command line of `mixfarm master` (clap).

use std::path::PathBuf;

use super::formats::FormatChoice;
use super::AlbumMode;

/// Arguments of `mixfarm master`.
#[derive(Debug, Clone, clap::Args)]
pub struct MasterArgs {
    /// stereo/mono audio files and/or folders (a folder = one album)
    #[arg(required_unless_present = "manifest")]
    pub inputs: Vec<PathBuf>,
    /// catalog manifest (.csv or .toml): file, title, artist, album, track, isrc, preset,
    /// gain_offset_db, fade_in_s, fade_out_s, gap_s
    #[arg(long, short, conflicts_with = "inputs")]
    pub manifest: Option<PathBuf>,
    /// output folder
    #[arg(long, short)]
    pub out: PathBuf,
    /// preset (streaming, apple, broadcast, cd, or a preset file) used when no --deliver
    #[arg(long, default_value = "streaming")]
    pub preset: String,
    /// target integrated loudness, LUFS (overrides every delivery's preset)
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<f64>,
    /// true-peak ceiling, dBTP (overrides every delivery's preset)
    #[arg(long, allow_hyphen_values = true)]
    pub ceiling: Option<f64>,
    /// deliveries, comma-separated presets (e.g. streaming,broadcast)
    #[arg(long, value_delimiter = ',')]
    pub deliver: Vec<String>,
    /// one gain per song (`track`) or per album (`album`)
    #[arg(long, value_enum, default_value_t = AlbumMode::Track)]
    pub album_mode: AlbumMode,
    /// output formats, comma-separated: wav and flac (each delivery's bit depth), or wav16,
    /// wav24, wav32f, flac16, flac24 (that depth in every delivery); two of one container
    /// are told apart by a ` (16-bit)`-style suffix
    #[arg(long, value_delimiter = ',', default_value = "wav", value_parser = parse_format)]
    pub format: Vec<FormatChoice>,
    /// sample rate of every delivery, Hz (overrides the presets; default: the preset's, or
    /// each song's own rate)
    #[arg(long)]
    pub rate: Option<u32>,
    /// bit depth of every delivery: 16, 24, or 32 (float) (overrides the presets; default:
    /// the preset's, or 24)
    #[arg(long, value_parser = parse_bits)]
    pub bits: Option<u32>,
    /// also write ReplayGain 2.0 tags (track gain and peak; album gain and peak in album
    /// mode), reference −18 LUFS
    #[arg(long)]
    pub replaygain: bool,
    /// also write each album as one continuous file with a CUE sheet
    #[arg(long)]
    pub sequence: bool,
    /// silence between tracks in the album file, seconds (rounded up to a CUE frame)
    #[arg(long, default_value_t = 2.0)]
    pub gap: f64,
    /// fade-in of every song, seconds (a manifest's fade_in_s wins)
    #[arg(long, default_value_t = 0.0)]
    pub fade_in: f64,
    /// fade-out of every song, seconds (a manifest's fade_out_s wins)
    #[arg(long, default_value_t = 0.0)]
    pub fade_out: f64,
    /// match each song's tonal balance and loudness to this reference track
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// how far to move toward the reference's spectrum, 0..1
    #[arg(long, default_value_t = 1.0)]
    pub match_strength: f64,
    /// skip songs whose sidecar records the same input, settings and mixfarm version
    #[arg(long, conflicts_with = "force")]
    pub skip_existing: bool,
    /// redo every song and replace outputs made otherwise (other settings, another input,
    /// another mixfarm, no sidecar): without it such outputs stop the run before any work
    #[arg(long, visible_alias = "overwrite")]
    pub force: bool,
    /// print what would be written, replaced, skipped, refused or left stale, and stop
    #[arg(long)]
    pub dry_run: bool,
    /// songs mastered at once (default: one per core)
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// print only errors and failures
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// also print the plan for every output file before the run
    #[arg(long, short)]
    pub verbose: bool,
    /// print the summary (summary.json's content) as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// this worker's shard, INDEX/COUNT (0-based); default: the scheduler's array index
    #[arg(long)]
    pub shard: Option<String>,
    /// shard count when the scheduler exports only an index (Kubernetes, AWS Batch)
    #[arg(long)]
    pub shards: Option<usize>,
    /// most limiter gain reduction a song may need, dB; past it the song ends with a
    /// `warning` status (it is still written)
    #[arg(long, default_value_t = crate::engine::DEFAULT_MAX_REDUCTION_DB)]
    pub max_reduction: f64,
    /// engine: `cpu`, `gpu` (fails without an adapter), or `auto` (a hardware GPU when there
    /// is one); `--adapter NAME` picks the adapter
    #[arg(long, value_enum, default_value_t = crate::engine::Backend::Auto)]
    pub backend: crate::engine::Backend,
    /// memory one GPU batch may take, and whether two albums may be in memory at once
    /// (4G, 512M…; default: a quarter of the machine's memory, 512M to 8G)
    #[arg(long, value_parser = crate::engine::budget::parse)]
    pub memory_budget: Option<u64>,
    /// also write DIR/report.html: the catalog overview with a page of charts per song and
    /// album, built from the sidecars (`mixfarm report DIR` builds it again)
    #[arg(long)]
    pub report_html: bool,
}

fn parse_format(s: &str) -> std::result::Result<FormatChoice, String> {
    s.parse()
}

fn parse_bits(s: &str) -> std::result::Result<u32, String> {
    match s.trim() {
        "16" => Ok(16),
        "24" => Ok(24),
        "32" | "32f" => Ok(32),
        _ => Err(format!("bit depth '{s}' is not 16, 24 or 32 (float)")),
    }
}
