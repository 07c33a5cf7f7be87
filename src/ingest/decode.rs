//! Decode step: the bytes of one source object to the JSON text inside it.
//!
//! Input: the raw bytes as fetched. Output: the decompressed bytes, borrowed when the object was
//! plain. Gzip is recognised by its magic number, never by the file name. Exactly one gzip stream
//! is accepted: a truncated stream, corrupt data, or anything after the end of the stream (a second
//! member, appended bytes) makes the object bad, because CloudTrail never writes such files and an
//! appended tail is a classic way to smuggle data past a digest check. Decompressed size is capped
//! against gzip bombs.
//!
//! This module does not look at the JSON; [`super::records`] does.

use std::borrow::Cow;
use std::io::Read;

use flate2::bufread::GzDecoder;

/// Why an object's bytes could not be decoded. The object is quarantined with this reason.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The gzip stream ended before its trailer.
    #[error(
        "truncated gzip stream (the object ends before the gzip trailer; was the download or copy cut short?)"
    )]
    Truncated,
    /// The gzip data is not valid.
    #[error("corrupt gzip data: {0}")]
    Corrupt(String),
    /// Bytes follow the end of the gzip stream.
    #[error(
        "{0} bytes of data after the end of the gzip stream (a second gzip member or an appended tail)"
    )]
    TrailingData(usize),
    /// The decompressed size passes the cap.
    #[error(
        "decompressed size exceeds the cap of {cap} bytes (possible gzip bomb; raise --max-object-size if this object is genuine)"
    )]
    TooLarge {
        /// The cap in bytes.
        cap: u64,
    },
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when the bytes start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Decodes one object: gunzips it when it is gzip, passes plain bytes through.
/// `cap` bounds the decoded size in bytes.
pub fn decode(bytes: &[u8], cap: u64) -> Result<Cow<'_, [u8]>, DecodeError> {
    if !is_gzip(bytes) {
        if bytes.len() as u64 > cap {
            return Err(DecodeError::TooLarge { cap });
        }
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    let n = gunzip(bytes, cap, &mut out)?;
    out.truncate(n);
    Ok(Cow::Owned(out))
}

/// Like [`decode`], but gunzips into `buf`, so that a worker can reuse one buffer for every
/// object instead of asking the allocator for fresh pages each time. `buf`'s length is how much
/// of it is initialised, not the decoded size: it is kept between objects so that the bytes are
/// zeroed once per buffer, not once per object (which cost as much as a tenth of inflating).
pub fn decode_into<'a>(
    bytes: &'a [u8],
    cap: u64,
    buf: &'a mut Vec<u8>,
) -> Result<&'a [u8], DecodeError> {
    if !is_gzip(bytes) {
        if bytes.len() as u64 > cap {
            return Err(DecodeError::TooLarge { cap });
        }
        return Ok(bytes);
    }
    let n = gunzip(bytes, cap, buf)?;
    Ok(&buf[..n])
}

/// Like [`decode`], but hands the decoded bytes to `sink` piece by piece instead of holding
/// them whole: for hashing an object's content with the memory of one small buffer.
pub fn decode_stream(bytes: &[u8], mut sink: impl FnMut(&[u8])) -> Result<(), DecodeError> {
    if !is_gzip(bytes) {
        sink(bytes);
        return Ok(());
    }
    let mut rest: &[u8] = bytes;
    let mut decoder = GzDecoder::new(&mut rest);
    // Small enough to stay in cache between inflating and the sink.
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => sink(&buf[..n]),
            Err(e) => return Err(read_error(e)),
        }
    }
    drop(decoder);
    at_end(rest)
}

/// A gzip read error as a decode error.
fn read_error(e: std::io::Error) -> DecodeError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        DecodeError::Truncated
    } else {
        DecodeError::Corrupt(e.to_string())
    }
}

/// Nothing may follow the gzip stream.
fn at_end(rest: &[u8]) -> Result<(), DecodeError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TrailingData(rest.len()))
    }
}

/// Inflates the one gzip stream in `bytes` into `out` from its start, growing `out` (zeroed
/// only where it grows) as needed, and returns the decoded size. At most `cap` + 1 bytes are
/// inflated, so a bomb costs no more than the cap.
fn gunzip(bytes: &[u8], cap: u64, out: &mut Vec<u8>) -> Result<usize, DecodeError> {
    // The gzip trailer's ISIZE (size mod 2^32) is a good first guess for the buffer; it is only a
    // hint, since it is attacker-controlled and wraps for objects over 4 GiB. One byte more, so
    // that the read that finds the end of the stream has room.
    let hint = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .and_then(|t| t.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0) as u64;
    let limit = cap.saturating_add(1);
    let first = hint.saturating_add(1).min(limit).min(256 << 20) as usize;
    if out.len() < first {
        out.resize(first, 0);
    }
    let mut rest: &[u8] = bytes;
    let mut decoder = GzDecoder::new(&mut rest);
    let mut n = 0usize;
    loop {
        if n as u64 >= limit {
            return Err(DecodeError::TooLarge { cap });
        }
        if n == out.len() {
            let grow = out.len().max(64 << 10);
            out.resize(out.len() + grow, 0);
        }
        let room = (out.len() - n).min(usize::try_from(limit - n as u64).unwrap_or(usize::MAX));
        match decoder.read(&mut out[n..n + room]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e)),
        }
    }
    drop(decoder);
    at_end(rest)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn streaming_gives_the_same_bytes_and_the_same_errors() {
        let data: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let z = gz(&data);
        let mut got = Vec::new();
        decode_stream(&z, |p| got.extend_from_slice(p)).unwrap();
        assert_eq!(got, data);
        let mut appended = z.clone();
        appended.extend_from_slice(&gz(b"x"));
        assert!(matches!(
            decode_stream(&appended, |_| {}),
            Err(DecodeError::TrailingData(_))
        ));
        assert_eq!(
            decode_stream(&z[..z.len() / 2], |_| {}),
            Err(DecodeError::Truncated)
        );
        let mut plain = Vec::new();
        decode_stream(b"{}", |p| plain.extend_from_slice(p)).unwrap();
        assert_eq!(plain, b"{}");
    }

    #[test]
    fn plain_passes_through_borrowed() {
        let got = decode(b"{\"Records\":[]}", 1 << 20).unwrap();
        assert!(matches!(got, Cow::Borrowed(_)));
    }

    #[test]
    fn gzip_is_detected_by_content() {
        let data = gz(b"{\"Records\":[]}");
        let got = decode(&data, 1 << 20).unwrap();
        assert_eq!(&*got, b"{\"Records\":[]}");
    }

    #[test]
    fn truncated_gzip_is_named() {
        let mut data = gz(&vec![b'x'; 10_000]);
        data.truncate(data.len() / 2);
        assert_eq!(decode(&data, 1 << 20), Err(DecodeError::Truncated));
    }

    #[test]
    fn corrupt_gzip_is_named() {
        let mut data = gz(b"{\"Records\":[]}");
        let n = data.len();
        data[12] ^= 0xff;
        data[n - 6] ^= 0xff;
        assert!(matches!(
            decode(&data, 1 << 20),
            Err(DecodeError::Corrupt(_)) | Err(DecodeError::Truncated)
        ));
    }

    #[test]
    fn bad_crc_is_corrupt() {
        let mut data = gz(b"{\"Records\":[]}");
        let n = data.len();
        data[n - 8] ^= 0xff; // CRC32 of the trailer
        assert!(matches!(
            decode(&data, 1 << 20),
            Err(DecodeError::Corrupt(_))
        ));
    }

    #[test]
    fn data_after_the_stream_is_refused() {
        let mut data = gz(b"{\"Records\":[]}");
        data.extend_from_slice(&gz(b"{\"Records\":[{}]}"));
        assert!(matches!(
            decode(&data, 1 << 20),
            Err(DecodeError::TrailingData(_))
        ));
        let mut data = gz(b"{\"Records\":[]}");
        data.extend_from_slice(b"tail");
        assert_eq!(decode(&data, 1 << 20), Err(DecodeError::TrailingData(4)));
    }

    #[test]
    fn a_reused_buffer_gives_each_object_its_own_bytes() {
        let mut buf = Vec::new();
        let big = gz(&vec![b'a'; 200_000]);
        let small = gz(b"{}");
        assert_eq!(decode_into(&big, 1 << 20, &mut buf).unwrap().len(), 200_000);
        assert_eq!(decode_into(&small, 1 << 20, &mut buf).unwrap(), b"{}");
        // A wrong size hint in the trailer does not matter: the buffer grows.
        let mut lying = gz(&vec![b'b'; 300_000]);
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&10u32.to_le_bytes());
        assert!(
            matches!(
                decode_into(&lying, 1 << 20, &mut buf),
                Err(DecodeError::Corrupt(_))
            ),
            "ISIZE is checked by the decoder"
        );
        assert_eq!(
            decode_into(&gz(&vec![b'c'; 300_000]), 1 << 20, &mut buf).unwrap(),
            &vec![b'c'; 300_000][..]
        );
        assert_eq!(
            decode_into(&gz(&vec![b'c'; 300_000]), 299_999, &mut buf),
            Err(DecodeError::TooLarge { cap: 299_999 })
        );
        assert_eq!(
            decode_into(&gz(&vec![b'c'; 300_000]), 300_000, &mut buf)
                .unwrap()
                .len(),
            300_000
        );
    }

    #[test]
    fn bombs_are_capped() {
        let data = gz(&vec![b' '; 1 << 20]);
        assert_eq!(
            decode(&data, 1000),
            Err(DecodeError::TooLarge { cap: 1000 })
        );
        assert_eq!(decode(&data, 1 << 20).unwrap().len(), 1 << 20);
    }
}
