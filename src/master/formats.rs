//! Output formats of `mixfarm master`: what `--format` names (a container at each
//! delivery's bit depth, or a fixed format), each delivery's resolved formats, and the file
//! names when one delivery writes several formats of one container. CPU only; no shader
//! mirrored.

use crate::core::OutputFormat;

/// One `--format` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    /// `wav` or `flac`: the container at each delivery's bit depth
    Container {
        /// FLAC (else WAV)
        flac: bool,
    },
    /// `wav16`, `wav24`, `wav32f`, `flac16`, `flac24`: that format in every delivery
    Fixed(OutputFormat),
}

impl std::str::FromStr for FormatChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wav" => Ok(FormatChoice::Container { flac: false }),
            "flac" => Ok(FormatChoice::Container { flac: true }),
            _ => s.parse().map(FormatChoice::Fixed).map_err(|_: String| {
                format!(
                    "unknown output format '{s}' (choose wav or flac, at each delivery's bit \
                     depth, or one of wav16, wav24, wav32f, flac16, flac24)"
                )
            }),
        }
    }
}

impl FormatChoice {
    /// The format this choice writes in a delivery of `bits` (16, 24 or 32 = float).
    pub fn resolve(self, bits: u32) -> Result<OutputFormat, String> {
        match (self, bits) {
            (FormatChoice::Fixed(f), _) => Ok(f),
            (FormatChoice::Container { flac: false }, 16) => Ok(OutputFormat::Wav16),
            (FormatChoice::Container { flac: false }, 24) => Ok(OutputFormat::Wav24),
            (FormatChoice::Container { flac: false }, 32) => Ok(OutputFormat::Wav32f),
            (FormatChoice::Container { flac: true }, 16) => Ok(OutputFormat::Flac16),
            (FormatChoice::Container { flac: true }, 24) => Ok(OutputFormat::Flac24),
            (FormatChoice::Container { flac: true }, 32) => {
                Err("FLAC holds 16 or 24 bits, not 32-bit float".into())
            }
            (_, b) => Err(format!("bit depth {b} is not 16, 24 or 32 (float)")),
        }
    }
}

/// The formats a delivery of `bits` writes for `choices`, in order; two choices that come
/// to the same format are refused.
pub fn resolve_all(choices: &[FormatChoice], bits: u32) -> Result<Vec<OutputFormat>, String> {
    let mut out: Vec<OutputFormat> = Vec::new();
    for c in choices {
        let f = c.resolve(bits)?;
        if out.contains(&f) {
            return Err(format!("--format names {f} twice (with {bits}-bit deliveries 'wav' and 'flac' mean the {bits}-bit format)"));
        }
        out.push(f);
    }
    Ok(out)
}

/// What a format adds to a file name when its delivery writes another format of the same
/// container: ` (16-bit)`, ` (24-bit)`, ` (32-bit float)`.
pub fn depth_suffix(f: OutputFormat) -> &'static str {
    match f.bits() {
        16 => " (16-bit)",
        24 => " (24-bit)",
        _ => " (32-bit float)",
    }
}

/// The file name of a song (`stem`, e.g. `01 - Title`) in format `f` among `formats`:
/// `stem.ext`, or `stem (B-bit).ext` when another of `formats` shares the container.
pub fn file_name(stem: &str, f: OutputFormat, formats: &[OutputFormat]) -> String {
    let shared = formats
        .iter()
        .any(|&o| o != f && o.extension() == f.extension());
    let suffix = if shared { depth_suffix(f) } else { "" };
    format!("{stem}{suffix}.{}", f.extension())
}
