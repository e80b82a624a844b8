//! SHA-256 of files and of bytes as they are written.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

/// Size of the read buffer when hashing a file.
const READ_BUF: usize = 256 * 1024;

/// Feeds everything written into a hasher.
pub(crate) struct HashWriter<'a>(pub(crate) &'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of the file at `path`, lower-case hex (streamed, not read whole).
pub(crate) fn sha256_file(path: &std::path::Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut reader = io::BufReader::with_capacity(READ_BUF, std::fs::File::open(path)?);
    io::copy(&mut reader, &mut HashWriter(&mut hasher))?;
    Ok(format!("{:x}", hasher.finalize()))
}
