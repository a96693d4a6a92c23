//! Output formats: container (WAV, FLAC) and sample format (16/24-bit PCM, 32-bit float).

/// Output file format: container and sample format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// WAV, 16-bit PCM with TPDF dither
    Wav16,
    /// WAV, 24-bit PCM with TPDF dither
    Wav24,
    /// WAV, 32-bit float, no dither
    Wav32f,
    /// FLAC, 16-bit with TPDF dither (verified lossless by decoding it back)
    Flac16,
    /// FLAC, 24-bit with TPDF dither (verified lossless by decoding it back)
    Flac24,
}

impl OutputFormat {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [OutputFormat; 5] = [
        OutputFormat::Wav16,
        OutputFormat::Wav24,
        OutputFormat::Wav32f,
        OutputFormat::Flac16,
        OutputFormat::Flac24,
    ];

    /// The name used in scene files and on the command line (`"wav24"`, `"flac16"`…).
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Wav16 => "wav16",
            OutputFormat::Wav24 => "wav24",
            OutputFormat::Wav32f => "wav32f",
            OutputFormat::Flac16 => "flac16",
            OutputFormat::Flac24 => "flac24",
        }
    }

    /// File extension without the dot: `"wav"` or `"flac"`.
    pub fn extension(self) -> &'static str {
        if self.is_flac() {
            "flac"
        } else {
            "wav"
        }
    }

    /// Bits per sample (16, 24 or 32).
    pub fn bits(self) -> u32 {
        match self {
            OutputFormat::Wav16 | OutputFormat::Flac16 => 16,
            OutputFormat::Wav24 | OutputFormat::Flac24 => 24,
            OutputFormat::Wav32f => 32,
        }
    }

    /// Whether samples are written as 32-bit float (no quantisation, no dither).
    pub fn is_float(self) -> bool {
        self == OutputFormat::Wav32f
    }

    /// Whether the container is FLAC.
    pub fn is_flac(self) -> bool {
        matches!(self, OutputFormat::Flac16 | OutputFormat::Flac24)
    }
}

impl std::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    /// Parses a format name; `"wav"` means wav24 and `"flac"` means flac24.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "wav" => return Ok(OutputFormat::Wav24),
            "flac" => return Ok(OutputFormat::Flac24),
            _ => {}
        }
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .ok_or_else(|| {
                let names: Vec<&str> = OutputFormat::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown output format '{s}' (choose one of {}; 'wav' = wav24, 'flac' = flac24)",
                    names.join(", ")
                )
            })
    }
}
