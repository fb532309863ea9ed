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
    let mut segments = Vec::new();
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
                segments.push(seg);
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
    items: Vec<(u64, u64, usize)>,
    /// `max_end[i]` = the largest end among `items[..=i]`, to stop the backward scan.
    max_end: Vec<u64>,
}

impl Intervals {
    fn new(items: impl Iterator<Item = (u64, u64, usize)>) -> Intervals {
        let mut items: Vec<(u64, u64, usize)> = items
            .filter(|&(_, len, _)| len > 0)
            .map(|(start, len, i)| (start, start.saturating_add(len), i))
            .collect();
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
            .map(move |i| self.items[i].2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checks lookups in overlapping intervals (the kernel image overlaps a RAM segment).
    #[test]
    fn overlapping_intervals() {
        let iv = Intervals::new([(0u64, 100u64, 0usize), (10, 5, 1), (200, 10, 2)].into_iter());
        assert_eq!(iv.find(12).collect::<Vec<_>>(), vec![1, 0]);
        assert_eq!(iv.find(50).collect::<Vec<_>>(), vec![0]);
        assert_eq!(iv.find(150).count(), 0);
        assert_eq!(iv.find(209).collect::<Vec<_>>(), vec![2]);
    }
}
