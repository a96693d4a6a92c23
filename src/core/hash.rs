//! SHA-256 hashes (hex) of bytes, text and files: what resumable runs (`--skip-existing`)
//! and shard plans compare; and BLAKE3 of files, for the stems of `render`'s resume sidecar
//! (gigabytes of stems per song: BLAKE3 hashes them several times faster than SHA-256).

use std::path::Path;

use crate::error::{Error, Result};

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hands a file's bytes to `f`, a MiB at a time.
fn each_piece(path: &Path, mut f: impl FnMut(&[u8])) -> Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        f(&buf[..n]);
    }
}

/// SHA-256 of a file's bytes, hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    each_piece(path, |b| h.update(b))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Hash of a string, hex (SHA-256).
pub fn text_sha256(s: &str) -> String {
    sha256_hex(s.as_bytes())
}

/// BLAKE3 of a file's bytes, hex.
pub fn file_blake3(path: &Path) -> Result<String> {
    let mut h = blake3::Hasher::new();
    each_piece(path, |b| {
        h.update(b);
    })?;
    Ok(h.finalize().to_hex().to_string())
}
