//! ELF vmcores: `/proc/vmcore` copies (virtual and physical addresses in each `PT_LOAD`) and
//! QEMU `dump-guest-memory` files (physical only, or with paging: virtual, often more than
//! 65,535 program headers, counted through section header 0 — `object` handles `PN_XNUM`).

use object::Endianness;
use object::elf::{EM_AARCH64, EM_X86_64, FileHeader64, PT_LOAD, PT_NOTE};
use object::read::ReadRef;
use object::read::elf::{FileHeader, ProgramHeader};

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
pub(crate) fn parse<'d, R: ReadRef<'d>>(data: R, file_len: u64) -> Result<Parsed, Error> {
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
    let phdrs = header.program_headers(endian, data).map_err(malformed)?;
    // Exact capacities here and in `Intervals::new`: with tens of thousands of program
    // headers, a doubling Vec would hold up to twice the memory at its peak.
    let mut segments = Vec::with_capacity(phdrs.len());
    let mut vmcoreinfo = None;
    let mut warnings = Vec::new();
    let mut lost = 0u64;
    for ph in phdrs {
        match ph.p_type(endian) {
            PT_LOAD => {
                let seg = Segment {
                    vaddr: ph.p_vaddr(endian),
                    paddr: ph.p_paddr(endian),
                    offset: ph.p_offset(endian),
                    filesz: ph.p_filesz(endian),
                    memsz: ph.p_memsz(endian).max(ph.p_filesz(endian)),
                };
                if seg.offset.saturating_add(seg.filesz) > file_len {
                    let end = seg.offset.saturating_add(seg.filesz);
                    lost = lost.saturating_add(end.saturating_sub(file_len.max(seg.offset)));
                }
                push_coalesced(&mut segments, seg);
            }
            PT_NOTE => match ph.notes(endian, data) {
                Ok(Some(mut notes)) => loop {
                    match notes.next() {
                        Ok(Some(note)) => {
                            if note.name() == b"VMCOREINFO" && vmcoreinfo.is_none() {
                                vmcoreinfo = Some(note.desc().to_vec());
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            warnings
                                .push(format!("elf notes are malformed after the first ones: {e}"));
                            break;
                        }
                    }
                },
                Ok(None) => {}
                Err(e) => warnings.push(format!("elf note segment is unreadable: {e}")),
            },
            _ => {}
        }
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
