//! The kdump-compressed format (`KDUMP   `, written by makedumpfile and QEMU): header,
//! sub-header, bitmaps, page descriptors, and zlib/LZO/snappy/zstd pages.
//!
//! Layout (LP64, little-endian; makedumpfile diskdump_mod.h): block 0 is `disk_dump_header`
//! (signature, version @8, utsname @12, status @424, block_size @428, sub_hdr_size @432,
//! bitmap_blocks @436, max_mapnr @440); block 1 is `kdump_sub_header` (phys_base @0,
//! dump_level @8, split @12, VMCOREINFO offset/size @32/@40, notes @48/@56, 64-bit pfn range
//! and max_mapnr @80/@88/@96). Then the bitmaps (1st half: RAM, 2nd half: dumped pages),
//! then one 24-byte descriptor per dumped page in pfn order (offset i64, size u32, flags
//! u32, page_flags u64). A page's descriptor index is the count of dumped pages below it;
//! [`KdumpDump`] keeps those counts per bitmap block, computed only as far as needed.

use std::sync::Mutex;

use crate::memory::{Arch, MemError};
use crate::source::Src;
use crate::{Error, decompress};

/// The signatures of the format and of its predecessor.
pub(crate) const SIGNATURE: &[u8; 8] = b"KDUMP   ";
pub(crate) const OLD_SIGNATURE: &[u8; 8] = b"DISKDUMP";
/// `status` bit: makedumpfile ran out of space and the dump is incomplete.
const STATUS_INCOMPLETE: u32 = 0x8;
const DESC_SIZE: u64 = 24;
/// Bitmap bytes per popcount checkpoint.
const CHUNK: u64 = 4096;

/// A parsed kdump-compressed header and the state needed to find pages.
#[derive(Debug)]
pub(crate) struct KdumpDump {
    pub(crate) arch: Arch,
    pub(crate) block_size: u64,
    pub(crate) max_mapnr: u64,
    pub(crate) phys_base: u64,
    pfn_range: (u64, u64),
    bitmap2_off: u64,
    desc_off: u64,
    /// `counts[i]` = dumped pages below pfn `i * CHUNK * 8` (grown on demand).
    counts: Mutex<Vec<u64>>,
}

/// What [`parse`] found: the header, the VMCOREINFO text, and warnings.
pub(crate) type Parsed = (KdumpDump, Option<Vec<u8>>, Vec<String>);

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes(s.try_into().unwrap_or_default()))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or_default()))
}

/// Parses the headers of a kdump-compressed file.
pub(crate) fn parse(src: Src<'_>) -> Result<Parsed, Error> {
    let mut hdr = [0u8; 464];
    src.read_exact(0, &mut hdr)
        .map_err(|n| Error::Malformed(format!("kdump header is cut short at {n} of 464 bytes")))?;
    let version = u32_at(&hdr, 8) as i32;
    let machine = String::from_utf8_lossy(&hdr[12 + 4 * 65..12 + 5 * 65]);
    let machine = machine.trim_end_matches('\0');
    let arch = match machine {
        "x86_64" => Arch::X86_64,
        "aarch64" | "arm64" => Arch::Aarch64,
        _ => Arch::Other(0),
    };
    let status = u32_at(&hdr, 424);
    let block_size = u32_at(&hdr, 428) as i32;
    let sub_hdr_size = u32_at(&hdr, 432) as i32;
    let bitmap_blocks = u64::from(u32_at(&hdr, 436));
    let max_mapnr_32 = u64::from(u32_at(&hdr, 440));
    if !(512..=(1 << 20)).contains(&block_size) || !(block_size as u64).is_power_of_two() {
        return Err(Error::Malformed(format!(
            "kdump block size {block_size} is not a page size"
        )));
    }
    if sub_hdr_size < 0 {
        return Err(Error::Malformed(format!(
            "kdump sub-header size {sub_hdr_size} is negative"
        )));
    }
    let bs = block_size as u64;
    let mut warnings = Vec::new();
    if status & STATUS_INCOMPLETE != 0 {
        warnings.push("the kdump header says the dump is incomplete (makedumpfile ran out of space): pages after the last one written are missing".to_owned());
    }
    let mut sub = [0u8; 104];
    let sub_len = src.read_at(bs, &mut sub);
    if sub_len < 16 {
        return Err(Error::Malformed("kdump sub-header is missing".into()));
    }
    let phys_base = u64_at(&sub, 0);
    let split = u32_at(&sub, 12) as i32;
    let max_mapnr = if version >= 6 && sub_len >= 104 {
        u64_at(&sub, 96)
    } else {
        max_mapnr_32
    };
    let pfn_range = if split != 0 && version >= 6 && sub_len >= 104 {
        warnings.push(format!(
            "this file is one part of a split dump (pfns {:#x}..{:#x}); pages outside it are in the other parts",
            u64_at(&sub, 80),
            u64_at(&sub, 88)
        ));
        (u64_at(&sub, 80), u64_at(&sub, 88))
    } else {
        (0, max_mapnr)
    };
    let vmcoreinfo = if version >= 3 && sub_len >= 48 {
        read_blob(
            src,
            u64_at(&sub, 32),
            u64_at(&sub, 40),
            "VMCOREINFO",
            &mut warnings,
        )
        .or_else(|| notes_vmcoreinfo(src, &sub, sub_len, version, &mut warnings))
    } else {
        None
    };
    let bitmap_off = bs * (1 + sub_hdr_size as u64);
    let bitmap_len = bitmap_blocks * bs;
    if max_mapnr > bitmap_len / 2 * 8 {
        return Err(Error::Malformed(format!(
            "kdump bitmap of {bitmap_len} bytes cannot cover {max_mapnr} pages"
        )));
    }
    let desc_off = bitmap_off + bitmap_len;
    if desc_off > src.len() {
        warnings.push(format!(
            "the dump is truncated at byte {}: it ends before its page descriptors (byte {desc_off})",
            src.len()
        ));
    }
    let dump = KdumpDump {
        arch,
        block_size: bs,
        max_mapnr,
        phys_base,
        pfn_range,
        bitmap2_off: bitmap_off + bitmap_len / 2,
        desc_off,
        counts: Mutex::new(vec![0]),
    };
    Ok((dump, vmcoreinfo, warnings))
}

fn read_blob(
    src: Src<'_>,
    off: u64,
    size: u64,
    what: &str,
    warnings: &mut Vec<String>,
) -> Option<Vec<u8>> {
    if off == 0 || size == 0 {
        return None;
    }
    if size > 1 << 20 {
        warnings.push(format!("kdump {what} size {size} is implausible; ignored"));
        return None;
    }
    let mut buf = vec![0u8; size as usize];
    match src.read_exact(off, &mut buf) {
        Ok(()) => Some(buf),
        Err(n) => {
            warnings.push(format!(
                "kdump {what} at byte {off} is cut short ({n} of {size} bytes)"
            ));
            None
        }
    }
}

/// Older writers keep VMCOREINFO only inside the ELF notes blob.
fn notes_vmcoreinfo(
    src: Src<'_>,
    sub: &[u8],
    sub_len: usize,
    version: i32,
    warnings: &mut Vec<String>,
) -> Option<Vec<u8>> {
    if version < 4 || sub_len < 64 {
        return None;
    }
    let notes = read_blob(src, u64_at(sub, 48), u64_at(sub, 56), "notes", warnings)?;
    let mut at = 0usize;
    while at + 12 <= notes.len() {
        let namesz = u32_at(&notes, at) as usize;
        let descsz = u32_at(&notes, at + 4) as usize;
        let name_at = at + 12;
        let desc_at = name_at.checked_add(namesz.checked_add(3)? & !3)?;
        let end = desc_at.checked_add(descsz.checked_add(3)? & !3)?;
        let name = notes.get(name_at..name_at + namesz)?;
        if name.strip_suffix(b"\0").unwrap_or(name) == b"VMCOREINFO" {
            return notes.get(desc_at..desc_at + descsz).map(<[u8]>::to_vec);
        }
        at = end;
    }
    None
}

impl KdumpDump {
    /// Reads page `pfn` into `out` (one block long).
    pub(crate) fn read_page(&self, src: Src<'_>, pfn: u64, out: &mut [u8]) -> Result<(), MemError> {
        let pa = pfn.saturating_mul(self.block_size);
        if pfn >= self.max_mapnr {
            return Err(MemError::NoPhys(pa));
        }
        if pfn < self.pfn_range.0 || pfn >= self.pfn_range.1 {
            return Err(MemError::Missing(
                pa,
                "in another part of the split dump".into(),
            ));
        }
        if !self
            .bit(src, pfn)
            .map_err(|what| MemError::Missing(pa, what))?
        {
            return Err(MemError::Excluded(pa));
        }
        let index = self
            .dumped_below(src, pfn)
            .map_err(|what| MemError::Missing(pa, what))?;
        let desc_at = self.desc_off + index * DESC_SIZE;
        let desc: [u8; 24] = src.le(desc_at).ok_or_else(|| {
            MemError::Missing(pa, format!("its page descriptor at byte {desc_at} is beyond the end of the file (truncated)"))
        })?;
        let offset = u64_at(&desc, 0);
        let size = u64::from(u32_at(&desc, 8));
        let flags = u32_at(&desc, 12);
        if offset == 0 {
            return Err(MemError::Missing(
                pa,
                "its page descriptor is empty (incomplete dump)".into(),
            ));
        }
        if size > self.block_size * 2 {
            return Err(MemError::Corrupt(
                pa,
                format!("page size {size} is larger than a page"),
            ));
        }
        let mut stored = vec![0u8; size as usize];
        if let Err(n) = src.read_exact(offset, &mut stored) {
            return Err(MemError::Missing(
                pa,
                format!(
                    "its data at byte {offset} is cut short at {n} of {size} bytes (truncated)"
                ),
            ));
        }
        if flags & (decompress::ZLIB | decompress::LZO | decompress::SNAPPY | decompress::ZSTD) == 0
        {
            if stored.len() != out.len() {
                return Err(MemError::Corrupt(pa, format!("raw page has {size} bytes")));
            }
            out.copy_from_slice(&stored);
            return Ok(());
        }
        decompress::page(flags, &stored, out).map_err(|reason| MemError::Corrupt(pa, reason))
    }

    fn bitmap_byte(&self, src: Src<'_>, at: u64) -> Result<u8, String> {
        src.le::<1>(self.bitmap2_off + at)
            .map(|b| b[0])
            .ok_or_else(|| {
                format!("the page bitmap byte {at} is beyond the end of the file (truncated)")
            })
    }

    fn bit(&self, src: Src<'_>, pfn: u64) -> Result<bool, String> {
        Ok(self.bitmap_byte(src, pfn / 8)? & (1 << (pfn % 8)) != 0)
    }

    /// Dumped pages below `pfn`: a cumulative count per [`CHUNK`] bytes of bitmap plus a
    /// popcount of the rest.
    fn dumped_below(&self, src: Src<'_>, pfn: u64) -> Result<u64, String> {
        let byte = pfn / 8;
        let chunk = (byte / CHUNK) as usize;
        let base = {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            let mut buf = vec![0u8; CHUNK as usize];
            while counts.len() <= chunk {
                let i = counts.len() as u64 - 1;
                let n = src.read_at(self.bitmap2_off + i * CHUNK, &mut buf);
                if n < buf.len() && (i + 1) * CHUNK * 8 < self.max_mapnr {
                    return Err(format!(
                        "the page bitmap is cut short at byte {} (truncated)",
                        i * CHUNK + n as u64
                    ));
                }
                let ones: u64 = buf[..n].iter().map(|b| u64::from(b.count_ones())).sum();
                let last = counts.last().copied().unwrap_or_default();
                counts.push(last + ones);
            }
            counts[chunk]
        };
        let mut buf = vec![0u8; (byte % CHUNK) as usize];
        src.read_exact(self.bitmap2_off + chunk as u64 * CHUNK, &mut buf)
            .map_err(|_| "the page bitmap is cut short (truncated)".to_owned())?;
        let full: u64 = buf.iter().map(|b| u64::from(b.count_ones())).sum();
        let partial = u64::from(
            (self.bitmap_byte(src, byte)? & ((1u16 << (pfn % 8)) - 1) as u8).count_ones(),
        );
        Ok(base + full + partial)
    }
}
