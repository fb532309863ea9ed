//! An LZO1X decompressor (the format of makedumpfile's `-l` pages), bounds-checked on every
//! step so that garbage input is an error, never a panic or an out-of-bounds access.
//!
//! The instruction set (as in lzo1x_d.ch and the kernel's lzo1x_decompress_safe.c):
//! - first byte > 17: a literal run of `b - 17` bytes;
//! - `0..15` after a match with no trailing literals (state 0): a literal run, length
//!   `b + 3` (`b == 0`: 15 + 255 per following zero byte + the next byte, + 3);
//! - `0..15` after 1..3 trailing literals: a 2-byte match, distance `1 + (b >> 2) + (next << 2)`;
//! - `0..15` after a literal run (state 4): a 3-byte match, distance `2049 + (b >> 2) + (next << 2)`;
//! - `16..31`: a match with distance `16384 + ((b & 8) << 11) + (le16 >> 2)`, length
//!   `(b & 7) + 2` (0: extended); distance 16384 exactly is the end marker;
//! - `32..63`: distance `1 + (le16 >> 2)`, length `(b & 31) + 2` (0: extended);
//! - `64..255`: distance `1 + ((b >> 2) & 7) + (next << 3)`, length `(b >> 5) + 1`.
//!
//! Every match carries 0..3 trailing literals in the low 2 bits of its distance field.

/// Why an LZO stream could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LzoError {
    /// The input ended in the middle of an instruction.
    #[error("lzo input ends early")]
    InputOverrun,
    /// The output would exceed the given buffer.
    #[error("lzo output overflows the page")]
    OutputOverrun,
    /// A match refers to bytes before the start of the output.
    #[error("lzo match distance before the start of the output")]
    LookBehindOverrun,
    /// The end marker is followed by more input.
    #[error("lzo input continues after the end marker")]
    InputNotConsumed,
    /// The end marker was malformed.
    #[error("lzo end marker is malformed")]
    BadEnd,
}

struct Cursor<'a> {
    input: &'a [u8],
    ip: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Result<usize, LzoError> {
        let b = *self.input.get(self.ip).ok_or(LzoError::InputOverrun)?;
        self.ip += 1;
        Ok(b as usize)
    }

    fn le16(&mut self) -> Result<usize, LzoError> {
        let lo = self.byte()?;
        let hi = self.byte()?;
        Ok(lo | (hi << 8))
    }

    /// Reads the "zero bytes then a byte" length extension, adding `base`.
    fn extended_length(&mut self, base: usize) -> Result<usize, LzoError> {
        let mut len = base;
        loop {
            let b = self.byte()?;
            if b != 0 {
                return len.checked_add(b).ok_or(LzoError::OutputOverrun);
            }
            len = len.checked_add(255).ok_or(LzoError::OutputOverrun)?;
        }
    }
}

/// Decompresses `input` into `out`; returns the number of bytes written.
pub fn decompress(input: &[u8], out: &mut [u8]) -> Result<usize, LzoError> {
    let mut cur = Cursor { input, ip: 0 };
    let mut op = 0usize;

    let copy_literals = |cur: &mut Cursor<'_>, out: &mut [u8], op: &mut usize, n: usize| {
        let src = cur
            .input
            .get(cur.ip..cur.ip.checked_add(n).ok_or(LzoError::InputOverrun)?)
            .ok_or(LzoError::InputOverrun)?;
        let dst = out
            .get_mut(*op..op.checked_add(n).ok_or(LzoError::OutputOverrun)?)
            .ok_or(LzoError::OutputOverrun)?;
        dst.copy_from_slice(src);
        cur.ip += n;
        *op += n;
        Ok::<(), LzoError>(())
    };
    let copy_match = |out: &mut [u8], op: &mut usize, dist: usize, n: usize| {
        if dist == 0 || dist > *op {
            return Err(LzoError::LookBehindOverrun);
        }
        if op.checked_add(n).is_none_or(|end| end > out.len()) {
            return Err(LzoError::OutputOverrun);
        }
        let from = *op - dist;
        // Byte by byte: matches may overlap their own output (run-length style).
        for i in 0..n {
            out[*op + i] = out[from + i];
        }
        *op += n;
        Ok(())
    };

    // state: 0 = after a match with no literals, 1..3 = after that many trailing literals,
    // 4 = after a literal run.
    let mut state: usize;
    let first = *input.first().ok_or(LzoError::InputOverrun)? as usize;
    if first > 17 {
        cur.ip = 1;
        let n = first - 17;
        copy_literals(&mut cur, out, &mut op, n)?;
        state = if n < 4 { n } else { 4 };
    } else {
        state = 0;
    }

    loop {
        let t = cur.byte()?;
        let (dist, len, trailing);
        if t < 16 {
            if state == 0 {
                let n = if t == 0 { cur.extended_length(15)? } else { t };
                copy_literals(&mut cur, out, &mut op, n + 3)?;
                state = 4;
                continue;
            } else if state != 4 {
                let next = cur.byte()?;
                dist = 1 + (t >> 2) + (next << 2);
                len = 2;
            } else {
                let next = cur.byte()?;
                dist = 1 + 0x800 + (t >> 2) + (next << 2);
                len = 3;
            }
            trailing = t & 3;
        } else if t >= 64 {
            let next = cur.byte()?;
            dist = 1 + ((t >> 2) & 7) + (next << 3);
            len = (t >> 5) + 1;
            trailing = t & 3;
        } else if t >= 32 {
            let mut n = t & 31;
            if n == 0 {
                n = cur.extended_length(31)?;
            }
            let word = cur.le16()?;
            dist = 1 + (word >> 2);
            len = n + 2;
            trailing = word & 3;
        } else {
            let mut n = t & 7;
            if n == 0 {
                n = cur.extended_length(7)?;
            }
            let word = cur.le16()?;
            let d = ((t & 8) << 11) + (word >> 2);
            if d == 0 {
                // The end marker: 0x11 0x00 0x00.
                if n + 2 != 3 {
                    return Err(LzoError::BadEnd);
                }
                return if cur.ip == input.len() {
                    Ok(op)
                } else {
                    Err(LzoError::InputNotConsumed)
                };
            }
            dist = d + 0x4000;
            len = n + 2;
            trailing = word & 3;
        }
        copy_match(out, &mut op, dist, len)?;
        copy_literals(&mut cur, out, &mut op, trailing)?;
        state = trailing;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) {
        let packed = lzokay_native::compress(data).expect("compress");
        let mut out = vec![0u8; data.len()];
        let n = decompress(&packed, &mut out).expect("decompress");
        assert_eq!(&out[..n], data);
    }

    // Checks round trips through an independent LZO1X compressor on varied data.
    #[test]
    fn decompresses_what_lzokay_compresses() {
        roundtrip(b"hello hello hello hello world");
        roundtrip(&[0u8; 4096]);
        let mut page = Vec::new();
        let mut x = 12345u32;
        for i in 0..70_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            // Mixed: runs, repeats at far distances, and noise.
            page.push(match i % 7 {
                0 => (x >> 24) as u8,
                1 | 2 => b'a' + (i % 13) as u8,
                _ => page
                    .get(i.saturating_sub(3000) as usize)
                    .copied()
                    .unwrap_or(7),
            });
        }
        roundtrip(&page);
        roundtrip(b"x");
    }

    // Checks that truncated, overlong and garbage streams are errors, not panics.
    #[test]
    fn rejects_bad_streams() {
        let packed = lzokay_native::compress(&[b'z'; 5000]).expect("compress");
        let mut out = vec![0u8; 5000];
        assert!(decompress(&packed[..packed.len() - 1], &mut out).is_err());
        let mut small = vec![0u8; 100];
        assert_eq!(
            decompress(&packed, &mut small),
            Err(LzoError::OutputOverrun)
        );
        let mut longer = packed.clone();
        longer.push(0);
        assert_eq!(
            decompress(&longer, &mut out),
            Err(LzoError::InputNotConsumed)
        );
        assert!(decompress(&[], &mut out).is_err());
        assert!(decompress(&[0x40, 0xff], &mut out).is_err());
        assert!(decompress(&[0; 64], &mut out).is_err());
    }
}
