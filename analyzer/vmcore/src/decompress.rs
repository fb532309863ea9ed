//! Page decompression for kdump-compressed dumps: zlib, LZO1X, snappy and zstd, each into a
//! buffer of exactly one page, so a lying header cannot make us allocate more.

use std::io::Read;

/// `page_desc.flags` bits naming the compression of one page (makedumpfile diskdump_mod.h).
pub(crate) const ZLIB: u32 = 0x1;
pub(crate) const LZO: u32 = 0x2;
pub(crate) const SNAPPY: u32 = 0x4;
pub(crate) const ZSTD: u32 = 0x20;

/// Decompresses one page into `out` (one page long). Errors say which codec failed and why.
pub(crate) fn page(flags: u32, input: &[u8], out: &mut [u8]) -> Result<(), String> {
    let n = if flags & ZLIB != 0 {
        read_exact_page(flate2::read::ZlibDecoder::new(input), out)
            .map_err(|e| format!("zlib: {e}"))?
    } else if flags & LZO != 0 {
        crate::lzo::decompress(input, out).map_err(|e| e.to_string())?
    } else if flags & SNAPPY != 0 {
        match snap::raw::decompress_len(input) {
            Ok(len) if len == out.len() => {}
            Ok(len) => return Err(format!("snappy page is {len} bytes, not {}", out.len())),
            Err(e) => return Err(format!("snappy: {e}")),
        }
        snap::raw::Decoder::new()
            .decompress(input, out)
            .map_err(|e| format!("snappy: {e}"))?
    } else if flags & ZSTD != 0 {
        let decoder = ruzstd::StreamingDecoder::new(input).map_err(|e| format!("zstd: {e}"))?;
        read_exact_page(decoder, out).map_err(|e| format!("zstd: {e}"))?
    } else {
        return Err(format!("unknown compression flags {flags:#x}"));
    };
    if n != out.len() {
        return Err(format!("page decompressed to {n} bytes, not {}", out.len()));
    }
    Ok(())
}

/// Reads until `out` is full or the stream ends; one more byte means the page is too long.
fn read_exact_page(mut reader: impl Read, out: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < out.len() {
        match reader.read(&mut out[n..])? {
            0 => return Ok(n),
            k => n += k,
        }
    }
    let mut extra = [0u8; 1];
    if reader.read(&mut extra)? != 0 {
        return Err(std::io::Error::other(
            "page decompresses to more than one page",
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // Checks zlib and snappy pages round-trip and a wrong length is refused.
    #[test]
    fn zlib_and_snappy_pages() {
        let page_in: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&page_in).expect("zlib");
        let zlib = z.finish().expect("zlib");
        let mut out = vec![0u8; 4096];
        page(ZLIB, &zlib, &mut out).expect("zlib page");
        assert_eq!(out, page_in);
        let snappy = snap::raw::Encoder::new()
            .compress_vec(&page_in)
            .expect("snappy");
        out.fill(0);
        page(SNAPPY, &snappy, &mut out).expect("snappy page");
        assert_eq!(out, page_in);
        let mut short = vec![0u8; 100];
        assert!(page(ZLIB, &zlib, &mut short).is_err());
        assert!(page(SNAPPY, &snappy, &mut short).is_err());
        assert!(page(0x40, &zlib, &mut out).is_err());
        assert!(page(ZSTD, b"not zstd", &mut out).is_err());
    }
}
