//! Kernel memory as the log readers see it: virtual addresses, translated to file bytes.
//!
//! Translation order for a virtual address: (1) a `PT_LOAD` whose `p_vaddr` covers it
//! (`/proc/vmcore`, QEMU paging dumps); (2) on x86_64, the kernel image formula
//! `pa = va − __START_KERNEL_map + phys_base`; (3) a walk of the kernel page tables from
//! `SYMBOL(init_top_pgt)` (4 or 5 levels, 1 GiB and 2 MiB leaves), which covers the
//! randomized direct map. Physical addresses then go to a `PT_LOAD` by `p_paddr`, or to a
//! kdump-compressed page (decompressed pages are kept in a small LRU).

use std::fmt;
use std::sync::Mutex;

use crate::elf::ElfDump;
use crate::kdump::KdumpDump;
use crate::source::Src;
use crate::vmcoreinfo::VmcoreInfo;

/// The dumped machine's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arch {
    X86_64,
    Aarch64,
    /// Another architecture (ELF `e_machine`, 0 when unknown).
    Other(u16),
}

/// Why kernel memory could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemError {
    /// No translation for this virtual address.
    NoVirt(u64, String),
    /// This physical address is not in the dump's memory map.
    NoPhys(u64),
    /// The page is described but its bytes are not in the file (truncated, incomplete).
    Missing(u64, String),
    /// The page was filtered out when the dump was made (dump level).
    Excluded(u64),
    /// The page is there but cannot be decoded.
    Corrupt(u64, String),
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemError::NoVirt(va, why) => {
                write!(f, "virtual address {va:#x} cannot be translated: {why}")
            }
            MemError::NoPhys(pa) => write!(f, "physical address {pa:#x} is not in the dump"),
            MemError::Missing(pa, why) => {
                write!(f, "the page at physical address {pa:#x} is missing: {why}")
            }
            MemError::Excluded(pa) => {
                write!(
                    f,
                    "the page at physical address {pa:#x} was excluded when the dump was made (dump level)"
                )
            }
            MemError::Corrupt(pa, why) => {
                write!(f, "the page at physical address {pa:#x} is corrupt: {why}")
            }
        }
    }
}

/// Reads kernel virtual memory: what the printk readers need, and all they need.
pub(crate) trait KernelMemory {
    /// Fills `buf` from virtual address `va`.
    fn read(&self, va: u64, buf: &mut [u8]) -> Result<(), MemError>;

    fn read_u64(&self, va: u64) -> Result<u64, MemError> {
        let mut b = [0u8; 8];
        self.read(va, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn read_u32(&self, va: u64) -> Result<u32, MemError> {
        let mut b = [0u8; 4];
        self.read(va, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
}

/// The format-specific part of a dump.
#[derive(Debug)]
pub(crate) enum Body {
    Elf(ElfDump),
    Kdump(KdumpDump),
}

const START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
const PAGE: u64 = 4096;
const PTE_PFN_MASK: u64 = 0x000f_ffff_ffff_f000;
const TLB_SLOTS: usize = 64;
const PAGE_CACHE: usize = 64;

/// x86_64 kernel address translation from VMCOREINFO.
#[derive(Debug, Clone)]
pub(crate) struct X86 {
    phys_base: Option<u64>,
    pgd_va: Option<u64>,
    five_level: bool,
    sme_mask: u64,
}

impl X86 {
    pub(crate) fn new(info: &VmcoreInfo, fallback_phys_base: Option<u64>) -> X86 {
        X86 {
            phys_base: info.phys_base().or(fallback_phys_base),
            pgd_va: info
                .symbol("init_top_pgt")
                .or_else(|| info.symbol("init_level4_pgt"))
                .or_else(|| info.symbol("swapper_pg_dir")),
            five_level: info.number("pgtable_l5_enabled") == Some(1),
            sme_mask: info.number("sme_mask").unwrap_or(0) as u64,
        }
    }
}

/// Caches shared by all reads of one dump.
#[derive(Debug, Default)]
pub(crate) struct Caches {
    /// Virtual page → physical page, direct-mapped.
    tlb: Mutex<Vec<Option<(u64, u64)>>>,
    /// Decompressed kdump pages, most recent last.
    pages: Mutex<Vec<(u64, Box<[u8]>)>>,
}

/// Kernel memory of one opened dump.
#[derive(Debug)]
pub(crate) struct DumpMemory<'a> {
    pub(crate) src: Src<'a>,
    pub(crate) body: &'a Body,
    pub(crate) x86: Option<&'a X86>,
    pub(crate) caches: &'a Caches,
}

impl KernelMemory for DumpMemory<'_> {
    fn read(&self, va: u64, buf: &mut [u8]) -> Result<(), MemError> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = va.wrapping_add(done as u64);
            let in_page = (PAGE - at % PAGE) as usize;
            let n = in_page.min(buf.len() - done);
            let chunk = &mut buf[done..done + n];
            if !self.read_elf_virt(at, chunk)? {
                let pa = self.translate(at)?;
                self.read_phys(pa, chunk)?;
            }
            done += n;
        }
        Ok(())
    }
}

impl DumpMemory<'_> {
    /// Reads through a `PT_LOAD` with a virtual address; `Ok(false)` when none covers `va`.
    fn read_elf_virt(&self, va: u64, buf: &mut [u8]) -> Result<bool, MemError> {
        let Body::Elf(elf) = self.body else {
            return Ok(false);
        };
        let Some(i) = elf.by_vaddr.find(va).next() else {
            return Ok(false);
        };
        let seg = elf.segments[i];
        let pa = seg.paddr.wrapping_add(va - seg.vaddr);
        self.read_segment(seg, va - seg.vaddr, pa, buf)?;
        Ok(true)
    }

    fn read_segment(
        &self,
        seg: crate::elf::Segment,
        rel: u64,
        pa: u64,
        buf: &mut [u8],
    ) -> Result<(), MemError> {
        let len = buf.len() as u64;
        if rel.saturating_add(len) > seg.memsz {
            return Err(MemError::NoPhys(pa));
        }
        if rel >= seg.filesz {
            // makedumpfile -E marks filtered ranges with p_filesz < p_memsz; drgn and
            // crash read them as zeros.
            buf.fill(0);
            return Ok(());
        }
        let stored = (seg.filesz - rel).min(len) as usize;
        let off = seg.offset.saturating_add(rel);
        if let Err(n) = self.src.read_exact(off, &mut buf[..stored]) {
            return Err(MemError::Missing(
                pa,
                format!(
                    "its bytes at file offset {:#x} are beyond the end of the file (truncated)",
                    off.saturating_add(n as u64)
                ),
            ));
        }
        buf[stored..].fill(0);
        Ok(())
    }

    fn read_phys(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        match self.body {
            Body::Elf(elf) => {
                let mut last = MemError::NoPhys(pa);
                for i in elf.by_paddr.find(pa) {
                    let seg = elf.segments[i];
                    match self.read_segment(seg, pa - seg.paddr, pa, buf) {
                        Ok(()) => return Ok(()),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
            Body::Kdump(kdump) => {
                let bs = kdump.block_size;
                let mut done = 0usize;
                while done < buf.len() {
                    let at = pa.wrapping_add(done as u64);
                    let pfn = at / bs;
                    let from = (at % bs) as usize;
                    let n = (bs as usize - from).min(buf.len() - done);
                    self.with_page(kdump, pfn, |page| {
                        buf[done..done + n].copy_from_slice(&page[from..from + n])
                    })?;
                    done += n;
                }
                Ok(())
            }
        }
    }

    fn with_page(
        &self,
        kdump: &KdumpDump,
        pfn: u64,
        f: impl FnOnce(&[u8]),
    ) -> Result<(), MemError> {
        let mut pages = self.caches.pages.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = pages.iter().position(|(p, _)| *p == pfn) {
            let entry = pages.remove(i);
            f(&entry.1);
            pages.push(entry);
            return Ok(());
        }
        let mut page = if pages.len() >= PAGE_CACHE {
            pages.remove(0).1
        } else {
            vec![0u8; kdump.block_size as usize].into_boxed_slice()
        };
        kdump.read_page(self.src, pfn, &mut page)?;
        f(&page);
        pages.push((pfn, page));
        Ok(())
    }

    /// Virtual to physical for addresses no `PT_LOAD` maps.
    fn translate(&self, va: u64) -> Result<u64, MemError> {
        let Some(x86) = self.x86 else {
            return Err(MemError::NoVirt(
                va,
                "no program header maps it and physical translation is only implemented for x86_64"
                    .into(),
            ));
        };
        let Some(phys_base) = x86.phys_base else {
            return Err(MemError::NoVirt(
                va,
                "VMCOREINFO lacks NUMBER(phys_base)".into(),
            ));
        };
        if va >= START_KERNEL_MAP {
            return Ok(va.wrapping_sub(START_KERNEL_MAP).wrapping_add(phys_base));
        }
        let page = va & !(PAGE - 1);
        let slot = ((page / PAGE) as usize) % TLB_SLOTS;
        {
            let tlb = self.caches.tlb.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(Some((v, p))) = tlb.get(slot)
                && *v == page
            {
                return Ok(p + va % PAGE);
            }
        }
        let pa = self.walk(x86, phys_base, va)?;
        let mut tlb = self.caches.tlb.lock().unwrap_or_else(|p| p.into_inner());
        if tlb.len() < TLB_SLOTS {
            tlb.resize(TLB_SLOTS, None);
        }
        tlb[slot] = Some((page, pa & !(PAGE - 1)));
        Ok(pa)
    }

    /// Walks the x86_64 page tables from the kernel's top-level table.
    fn walk(&self, x86: &X86, phys_base: u64, va: u64) -> Result<u64, MemError> {
        let Some(pgd_va) = x86.pgd_va else {
            return Err(MemError::NoVirt(
                va,
                "VMCOREINFO lacks SYMBOL(init_top_pgt) for a page-table walk".into(),
            ));
        };
        let mut table = pgd_va
            .wrapping_sub(START_KERNEL_MAP)
            .wrapping_add(phys_base);
        let shifts: &[u32] = if x86.five_level {
            &[48, 39, 30, 21, 12]
        } else {
            &[39, 30, 21, 12]
        };
        for (level, &shift) in shifts.iter().enumerate() {
            let mut e = [0u8; 8];
            let at = (table & PTE_PFN_MASK) + ((va >> shift) & 511) * 8;
            self.read_phys(at, &mut e)?;
            let entry = u64::from_le_bytes(e) & !x86.sme_mask;
            if entry & 1 == 0 {
                return Err(MemError::NoVirt(
                    va,
                    "not present in the kernel page tables".into(),
                ));
            }
            let leaf_level = shift == 30 || shift == 21;
            if (leaf_level && entry & 0x80 != 0) || level == shifts.len() - 1 {
                let size = 1u64 << shift;
                return Ok((entry & PTE_PFN_MASK & !(size - 1)) | (va & (size - 1)));
            }
            table = entry;
        }
        Err(MemError::NoVirt(
            va,
            "page-table walk ended without a leaf".into(),
        ))
    }
}
