//! Length-prefixed frames, as browsers speak to their native hosts: a 4-byte length in
//! the machine's byte order, then that many bytes of UTF-8 JSON. The window's socket
//! uses the same framing, so one reader serves both.

use std::io::{self, Read, Write};

/// Most bytes of one message read: the browsers' own limit for a message to a host
/// (64 MiB). A longer one is read to its end and thrown away, never held.
pub(crate) const MAX_MESSAGE: usize = 64 << 20;

/// Most bytes of one message written to the browser (its limit for a host's message).
pub(crate) const MAX_REPLY: usize = 1 << 20;

/// A frame that could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    /// The length says more than the limit; its bytes were skipped.
    #[error("message too large: {got} bytes (the limit is {limit})")]
    TooLarge {
        /// What the length said.
        got: u64,
        /// The limit.
        limit: usize,
    },
    /// The stream ended inside a frame.
    #[error("the message was cut off after {0} of its bytes")]
    Cut(usize),
    /// The bytes are not JSON of the expected shape.
    #[error("bad message: {0}")]
    Json(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Reads one frame's bytes; `Ok(None)` at a clean end of the stream (before a length).
/// A frame over `limit` is read through to its end (so the next one can be read) and
/// refused.
pub(crate) fn read_frame(
    reader: &mut impl Read,
    limit: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match reader.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(FrameError::Cut(got)),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u64::from(u32::from_ne_bytes(len));
    if len > limit as u64 {
        let skipped = io::copy(&mut reader.take(len), &mut io::sink())?;
        if skipped < len {
            return Err(FrameError::Cut(
                usize::try_from(skipped).unwrap_or(usize::MAX),
            ));
        }
        return Err(FrameError::TooLarge { got: len, limit });
    }
    let mut body = Vec::new();
    reader.take(len).read_to_end(&mut body)?;
    if (body.len() as u64) < len {
        return Err(FrameError::Cut(body.len()));
    }
    Ok(Some(body))
}

/// Reads one frame and parses it as `T`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    reader: &mut impl Read,
    limit: usize,
) -> Result<Option<T>, FrameError> {
    let Some(body) = read_frame(reader, limit)? else {
        return Ok(None);
    };
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| FrameError::Json(e.to_string()))
}

/// Writes `value` as one frame and flushes it. Refused (nothing written) when it is
/// over `limit`.
pub(crate) fn write_json(
    writer: &mut impl Write,
    value: &impl serde::Serialize,
    limit: usize,
) -> Result<(), FrameError> {
    let body = serde_json::to_vec(value).map_err(|e| FrameError::Json(e.to_string()))?;
    if body.len() > limit {
        return Err(FrameError::TooLarge {
            got: body.len() as u64,
            limit,
        });
    }
    let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLarge {
        got: body.len() as u64,
        limit,
    })?;
    writer.write_all(&len.to_ne_bytes())?;
    writer.write_all(&body)?;
    writer.flush()?;
    Ok(())
}

/// `body` as one frame (for tests that write frames by hand).
#[cfg(test)]
pub(crate) fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_ne_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_clean_end_is_none() {
        let mut bytes = Vec::new();
        write_json(&mut bytes, &serde_json::json!({"a": 1}), MAX_REPLY).expect("write");
        let mut reader = bytes.as_slice();
        let value: serde_json::Value = read_json(&mut reader, MAX_MESSAGE)
            .expect("read")
            .expect("one");
        assert_eq!(value["a"], 1);
        assert!(read_frame(&mut reader, MAX_MESSAGE).expect("end").is_none());
    }

    #[test]
    fn an_oversized_frame_is_skipped_whole_and_the_next_one_reads() {
        let mut bytes = framed(&[b'x'; 100]);
        bytes.extend(framed(b"{}"));
        let mut reader = bytes.as_slice();
        let err = read_frame(&mut reader, 10).expect_err("too large");
        assert!(
            err.to_string().contains("100 bytes (the limit is 10)"),
            "{err}"
        );
        assert_eq!(
            read_frame(&mut reader, 10).expect("next"),
            Some(b"{}".to_vec())
        );
    }

    #[test]
    fn a_cut_frame_says_so() {
        let bytes = framed(b"{\"a\": 1}");
        let mut reader = &bytes[..7];
        assert!(matches!(
            read_frame(&mut reader, 100),
            Err(FrameError::Cut(3))
        ));
        let mut reader = &bytes[..2];
        assert!(matches!(
            read_frame(&mut reader, 100),
            Err(FrameError::Cut(2))
        ));
    }
}
