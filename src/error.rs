//! The library's error type: every variant says which file (and where useful which song,
//! line or field) and why.

use std::path::PathBuf;

/// Everything that can go wrong in mixfarm.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scene, album or preset file is malformed or inconsistent.
    #[error("{}: {message}", location(path, *line))]
    Scene {
        /// the scene file
        path: PathBuf,
        /// 1-based line, when known
        line: Option<usize>,
        /// what is wrong and what was expected
        message: String,
    },
    /// An audio file cannot be decoded or holds unusable data.
    #[error("{}: {reason}", path.display())]
    Input {
        /// the audio file
        path: PathBuf,
        /// why it cannot be used
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// the file
        path: PathBuf,
        /// the OS error
        #[source]
        source: std::io::Error,
    },
    /// Writing an output file failed.
    #[error("{}: cannot write output: {reason}", path.display())]
    Output {
        /// the output file
        path: PathBuf,
        /// why
        reason: String,
    },
    /// A render-time problem inside a song (bad routing found late, a processor failing).
    #[error("song '{song}': {reason}")]
    Render {
        /// the song's title
        song: String,
        /// why
        reason: String,
    },
    /// The GPU is missing, lost, or out of memory. `retryable` errors exit with code 75.
    #[error("GPU: {reason}")]
    Gpu {
        /// what happened
        reason: String,
        /// true for device loss and out-of-memory (worth retrying elsewhere)
        retryable: bool,
    },
    /// The worker was told to stop (SIGTERM/SIGINT) before this work started (exit 75).
    #[error("interrupted (SIGTERM): run again to resume")]
    Interrupted,
}

fn location(path: &std::path::Path, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    }
}

impl Error {
    /// Shorthand for an [`Error::Input`].
    pub fn input(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for an [`Error::Scene`] without a line.
    pub fn scene(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Scene {
            path: path.into(),
            line: None,
            message: message.into(),
        }
    }

    /// True for failures worth retrying elsewhere (exit 75): a lost GPU, out of memory, or a
    /// stop requested by a signal.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Gpu {
                retryable: true,
                ..
            } | Error::Interrupted
        )
    }

    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
