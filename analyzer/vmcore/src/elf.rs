//! ELF vmcores: `/proc/vmcore` copies (virtual and physical addresses in each `PT_LOAD`) and
//! QEMU `dump-guest-memory` files (physical only, or with paging: virtual, often more than
//! 65,535 program headers, counted through section header 0 — `object` handles `PN_XNUM`).

use object::Endianness;
use object::elf::{EM_AARCH64, EM_X86_64, FileHeader64, PT_LOAD, PT_NOTE};
use object::read::ReadRef;
use object::read::elf::{FileHeader, NoteIterator};

use crate::Error;
use crate::memory::Arch;

/// One `PT_LOAD`: `memsz` bytes of memory at `vaddr`/`paddr`, the first `filesz` of them
/// stored at `offset` (the rest were filtered out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) vaddr: u64,
    pub(crate) paddr: u64,
    pub(crate) offset: u64,
    pub(crate) filesz: u64,
    pub(crate) memsz: u64,
}

/// Appends `seg`, or extends the last segment when `seg` continues it in virtual,
/// physical and file addresses alike, so that dumps which split memory into many
/// adjacent program headers keep a small index. (QEMU's paging dumps mostly hold 4 KiB
/// aliases of one physical page, which do not continue each other and stay apart.)
fn push_coalesced(segments: &mut Vec<Segment>, seg: Segment) {
    if let Some(last) = segments.last_mut() {
        let continues = |a: u64, b: u64| {
            (a == u64::MAX && b == u64::MAX) || a.checked_add(last.memsz) == Some(b)
        };
        let grown = (
            last.filesz.checked_add(seg.filesz),
            last.memsz.checked_add(seg.memsz),
        );
        if let (Some(filesz), Some(memsz)) = grown
            && last.filesz == last.memsz
            && continues(last.vaddr, seg.vaddr)
            && continues(last.paddr, seg.paddr)
            && last.offset.checked_add(last.filesz) == Some(seg.offset)
        {
            last.filesz = filesz;
            last.memsz = memsz;
            return;
        }
    }
    segments.push(seg);
}

/// The memory map of an ELF vmcore.
#[derive(Debug)]
pub(crate) struct ElfDump {
    pub(crate) arch: Arch,
    pub(crate) segments: Vec<Segment>,
    pub(crate) by_vaddr: Intervals,
    pub(crate) by_paddr: Intervals,
}

/// What [`parse`] found: the memory map, the VMCOREINFO text, and warnings.
pub(crate) type Parsed = (ElfDump, Option<Vec<u8>>, Vec<String>);

/// Parses the ELF header, program headers and notes. `file_len` is the logical file
/// length, used to name segments that a truncated dump lost.
pub(crate) fn parse<'d, R: ReadRef<'d>>(
    data: R,
    file_len: u64,
    read_table: &dyn Fn(u64, &mut [u8]) -> usize,
) -> Result<Parsed, Error> {
    let malformed = |e: object::Error| Error::Malformed(format!("elf: {e}"));
    let ident = data
        .read_bytes_at(0, 6)
        .map_err(|()| Error::Malformed("elf header is cut short".into()))?;
    if ident[4] == object::elf::ELFCLASS32 {
        return Err(Error::Unsupported(
            "32-bit ELF vmcores are not supported".into(),
        ));
    }
    let header = FileHeader64::<Endianness>::parse(data).map_err(malformed)?;
    let endian = header.endian().map_err(malformed)?;
    if endian == Endianness::Big {
        return Err(Error::Unsupported(
            "big-endian vmcores are not supported".into(),
        ));
    }
    let arch = match header.e_machine(endian) {
        EM_X86_64 => Arch::X86_64,
        EM_AARCH64 => Arch::Aarch64,
        other => Arch::Other(other),
    };
    // The program header table is read in chunks through `read_table` (positional reads
    // of the file) instead of through the map: a QEMU paging dump has 65,720 headers
    // (3.7 MB) that would otherwise all stay resident. Headers are decoded by hand: the
    // dump is little-endian ELF64 (checked above), `Elf64_Phdr` is 56 bytes.
    const PHDR: usize = 56;
    const CHUNK: usize = 1024;
    let phoff = header.e_phoff(endian);
    let phnum = header.phnum(endian, data).map_err(malformed)?;
    if phnum > 0 && usize::from(header.e_phentsize(endian)) != PHDR {
        return Err(Error::Malformed(format!(
            "elf program headers are {} bytes, not {PHDR}",
            header.e_phentsize(endian)
        )));
    }
    let mut segments = Vec::with_capacity(phnum.min(1 << 20));
    let mut vmcoreinfo = None;
    let mut warnings = Vec::new();
    let mut lost = 0u64;
    let mut buf = vec![0u8; CHUNK * PHDR];
    let mut done = 0usize;
    while done < phnum {
        let n = (phnum - done).min(CHUNK);
        let want = n * PHDR;
        let at = (done as u64)
            .checked_mul(PHDR as u64)
            .and_then(|o| o.checked_add(phoff))
            .ok_or_else(|| Error::Malformed("elf program header offset overflows".into()))?;
        if read_table(at, &mut buf[..want]) < want {
            return Err(Error::Malformed(format!(
                "elf program headers are cut short: {phnum} announced at offset {phoff}, the file ends first"
            )));
        }
        for raw in buf[..want].chunks_exact(PHDR) {
            let u32_at = |o: usize| u32::from_le_bytes(raw[o..o + 4].try_into().unwrap_or([0; 4]));
            let u64_at = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().unwrap_or([0; 8]));
            let (p_type, offset, vaddr, paddr, filesz, memsz, align) = (
                u32_at(0),
                u64_at(8),
                u64_at(16),
                u64_at(24),
                u64_at(32),
                u64_at(40),
                u64_at(48),
            );
            match p_type {
                PT_LOAD => {
                    let seg = Segment {
                        vaddr,
                        paddr,
                        offset,
                        filesz,
                        memsz: memsz.max(filesz),
                    };
                    if seg.offset.saturating_add(seg.filesz) > file_len {
                        let end = seg.offset.saturating_add(seg.filesz);
                        lost = lost.saturating_add(end.saturating_sub(file_len.max(seg.offset)));
                    }
                    push_coalesced(&mut segments, seg);
                }
                PT_NOTE if vmcoreinfo.is_none() => read_notes(
                    data,
                    endian,
                    offset,
                    filesz,
                    align,
                    &mut vmcoreinfo,
                    &mut warnings,
                ),
                _ => {}
            }
        }
        done += n;
    }
    if lost > 0 {
        warnings.push(format!(
            "the dump is truncated at byte {file_len}: {lost} bytes of memory the program headers describe are missing"
        ));
    }
    // kexec-tools writes p_vaddr = -1 where no virtual mapping exists; QEMU's paging-less
    // dumps repeat the physical address as p_vaddr. Neither is a virtual address.
    let by_vaddr = Intervals::new(
        segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.vaddr != u64::MAX && s.vaddr != s.paddr)
            .map(|(i, s)| (s.vaddr, s.memsz, i)),
    );
    let by_paddr = Intervals::new(
        segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.paddr != u64::MAX)
            .map(|(i, s)| (s.paddr, s.memsz, i)),
    );
    Ok((
        ElfDump {
            arch,
            segments,
            by_vaddr,
            by_paddr,
        },
        vmcoreinfo,
        warnings,
    ))
}

/// Reads the VMCOREINFO note out of a `PT_NOTE` segment, if it holds one.
fn read_notes<'d, R: ReadRef<'d>>(
    data: R,
    endian: Endianness,
    offset: u64,
    size: u64,
    align: u64,
    vmcoreinfo: &mut Option<Vec<u8>>,
    warnings: &mut Vec<String>,
) {
    // As `object` does: notes are 4-byte aligned unless the segment says 8.
    let align = match align {
        0..=4 => 4,
        8 => 8,
        other => {
            warnings.push(format!("elf note segment has an unknown alignment {other}"));
            return;
        }
    };
    let Ok(bytes) = data.read_bytes_at(offset, size) else {
        warnings.push(format!("elf note segment at offset {offset} is cut short"));
        return;
    };
    let mut notes = match NoteIterator::<FileHeader64<Endianness>>::new(endian, align, bytes) {
        Ok(n) => n,
        Err(e) => {
            warnings.push(format!("elf note segment is unreadable: {e}"));
            return;
        }
    };
    loop {
        match notes.next() {
            Ok(Some(note)) => {
                if note.name() == b"VMCOREINFO" {
                    *vmcoreinfo = Some(note.desc().to_vec());
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                warnings.push(format!("elf notes are malformed after the first ones: {e}"));
                return;
            }
        }
    }
}

/// Address intervals that may overlap, searchable in O(log n) plus the overlaps.
#[derive(Debug, Default)]
pub(crate) struct Intervals {
    /// (start, end, segment index) sorted by start.
    items: Vec<(u64, u64, u32)>,
    /// `max_end[i]` = the largest end among `items[..=i]`, to stop the backward scan.
    max_end: Vec<u64>,
}

impl Intervals {
    fn new(items: impl Iterator<Item = (u64, u64, usize)>) -> Intervals {
        let items = items.filter(|&(_, len, _)| len > 0);
        let mut sorted: Vec<(u64, u64, u32)> = Vec::with_capacity(items.size_hint().1.unwrap_or(0));
        // Segment indexes fit in u32: an ELF has at most 2^32 - 1 program headers.
        sorted.extend(items.filter_map(|(start, len, i)| {
            Some((start, start.saturating_add(len), u32::try_from(i).ok()?))
        }));
        let mut items = sorted;
        items.sort_unstable();
        let mut max_end = Vec::with_capacity(items.len());
        let mut m = 0;
        for &(_, end, _) in &items {
            m = m.max(end);
            max_end.push(m);
        }
        Intervals { items, max_end }
    }

    /// The segments containing `addr`, nearest start first.
    pub(crate) fn find(&self, addr: u64) -> impl Iterator<Item = usize> + '_ {
        let upto = self.items.partition_point(|&(start, _, _)| start <= addr);
        (0..upto)
            .rev()
            .take_while(move |&i| self.max_end[i] > addr)
            .filter(move |&i| self.items[i].1 > addr)
            .map(move |i| self.items[i].2 as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checks lookups in overlapping intervals (the kernel image overlaps a RAM segment).
    // Segments that continue each other in every address space merge; others do not.
    #[test]
    fn contiguous_segments_coalesce() {
        let seg = |vaddr, paddr, offset, filesz, memsz| Segment {
            vaddr,
            paddr,
            offset,
            filesz,
            memsz,
        };
        let mut v = Vec::new();
        push_coalesced(&mut v, seg(0x1000, 0x10, 100, 0x1000, 0x1000));
        push_coalesced(&mut v, seg(0x2000, 0x1010, 0x1064, 0x1000, 0x1000));
        assert_eq!(v, vec![seg(0x1000, 0x10, 100, 0x2000, 0x2000)]);
        push_coalesced(&mut v, seg(0x9000, 0x2010, 0x2064, 0x1000, 0x1000));
        assert_eq!(v.len(), 2, "a virtual gap keeps them apart");
        push_coalesced(&mut v, seg(0xa000, 0x3010, 0x3064, 0x10, 0x1000));
        push_coalesced(&mut v, seg(0xb000, 0x4010, 0x3074, 0x1000, 0x1000));
        assert_eq!(
            v.len(),
            3,
            "a partly filtered segment joins, but is not extended"
        );
        push_coalesced(&mut v, seg(u64::MAX, 0x5010, 0x4074, 0x1000, 0x1000));
        push_coalesced(&mut v, seg(u64::MAX, 0x6010, 0x5074, 0x1000, 0x1000));
        assert_eq!(
            v.len(),
            4,
            "segments without a virtual address merge by physical address"
        );
    }

    #[test]
    fn overlapping_intervals() {
        let iv = Intervals::new([(0u64, 100u64, 0usize), (10, 5, 1), (200, 10, 2)].into_iter());
        assert_eq!(iv.find(12).collect::<Vec<_>>(), vec![1, 0]);
        assert_eq!(iv.find(50).collect::<Vec<_>>(), vec![0]);
        assert_eq!(iv.find(150).count(), 0);
        assert_eq!(iv.find(209).collect::<Vec<_>>(), vec![2]);
    }
}
