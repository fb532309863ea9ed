//! Loading one ELF debug file: build id, DWARF sections (decompressed, and relocated for
//! `.ko` objects), section addresses and the symbol table.
//!
//! Relocatable objects (`ET_REL`, kernel modules) have every allocated section at address
//! 0. We give each allocated section its own synthetic base (`section_base`), apply the
//! `.rela.debug_*` relocations with those bases, and address code as base + offset, so an
//! address names one section unambiguously (the failure of blazesym and llvm on modules).
//! Executables (`vmlinux`) keep their link addresses and their `.rela.debug_*` sections,
//! written by `--emit-relocs`, are NOT applied again.

use crate::error::SymbolizeError;
use crate::mmap::Bytes;
use crate::symtab::{RawSym, Symtab};
use crashsift_model::BuildId;
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionIndex};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the first synthetic section base of a relocatable object lies.
const REL_FIRST_BASE: u64 = 0x10_0000;

/// The largest decompressed debug section accepted (vmlinux's `.debug_info` is 174 MB).
const MAX_SECTION: u64 = 4 << 30;

/// The DWARF sections the symbolizer reads.
pub const DWARF_SECTIONS: [gimli::SectionId; 11] = [
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugRanges,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugAranges,
    gimli::SectionId::DebugLocLists,
];

/// One section's bytes: a range of the mapped file, or a decompressed/relocated copy.
#[derive(Debug)]
enum SectionData {
    Empty,
    Mapped { start: usize, len: usize },
    Owned(Vec<u8>),
}

/// A loaded debug file. Cheap to share (`Arc`); DWARF views borrow from it.
#[derive(Debug)]
pub struct DebugFile {
    pub path: PathBuf,
    pub build_id: Option<BuildId>,
    pub relocatable: bool,
    bytes: Bytes,
    sections: Vec<(gimli::SectionId, SectionData)>,
    /// Names and synthetic (or link) base addresses of the allocated sections, by ELF index.
    pub section_names: Vec<String>,
    pub section_bases: Vec<u64>,
}

/// What `load` extracts besides the file: the symbols, used to build the `Symtab`.
pub struct Loaded {
    pub file: Arc<DebugFile>,
    pub symtab: Symtab,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("file", &self.file.path)
            .finish()
    }
}

/// Reads only the build id of an ELF file (cheap: the section headers and one note).
pub fn read_build_id(path: &Path) -> Result<Option<BuildId>, SymbolizeError> {
    let bytes = Bytes::map(path).map_err(|e| SymbolizeError::io(path, e))?;
    let file = object::File::parse(&*bytes).map_err(|e| SymbolizeError::malformed(path, e))?;
    build_id_of(path, &file)
}

fn build_id_of(path: &Path, file: &object::File<'_>) -> Result<Option<BuildId>, SymbolizeError> {
    match file.build_id() {
        Ok(Some(b)) if !b.is_empty() => BuildId::from_bytes(b)
            .map(Some)
            .map_err(|e| SymbolizeError::malformed(path, e)),
        Ok(_) => Ok(None),
        Err(e) => Err(SymbolizeError::malformed(path, e)),
    }
}

/// Loads a debug file. `want_symbols` false skips the symbol table (a warm index has it).
pub fn load(path: &Path, want_symbols: bool) -> Result<Loaded, SymbolizeError> {
    let bytes = Bytes::map(path).map_err(|e| SymbolizeError::io(path, e))?;
    load_bytes(path, bytes, want_symbols)
}

/// Loads a debug file from bytes already in memory (fuzzing, tests, fetched files).
pub fn load_bytes(path: &Path, bytes: Bytes, want_symbols: bool) -> Result<Loaded, SymbolizeError> {
    let base_ptr = bytes.as_ptr() as usize;
    let file = object::File::parse(&*bytes).map_err(|e| SymbolizeError::malformed(path, e))?;
    if file.architecture() != object::Architecture::X86_64
        && file.architecture() != object::Architecture::Aarch64
    {
        // Other architectures would work for the DWARF part; relocations are x86/arm64 only.
        if file.kind() == object::ObjectKind::Relocatable {
            return Err(SymbolizeError::malformed(
                path,
                format!(
                    "relocatable {:?} objects are not supported",
                    file.architecture()
                ),
            ));
        }
    }
    let build_id = build_id_of(path, &file)?;
    let relocatable = file.kind() == object::ObjectKind::Relocatable;

    // Section bases: link addresses, or synthetic distinct ones for ET_REL.
    let nsect = file.sections().map(|s| s.index().0 + 1).max().unwrap_or(0);
    let mut section_names = vec![String::new(); nsect];
    let mut section_bases = vec![0u64; nsect];
    let mut cursor = REL_FIRST_BASE;
    for s in file.sections() {
        let i = s.index().0;
        section_names[i] = s.name().unwrap_or("").to_owned();
        let alloc = matches!(s.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & u64::from(object::elf::SHF_ALLOC) != 0);
        if relocatable {
            if alloc {
                let align = s.align().clamp(16, 1 << 20);
                cursor = cursor.div_ceil(align).saturating_mul(align);
                section_bases[i] = cursor;
                cursor = cursor.saturating_add(s.size()).saturating_add(16);
            }
        } else {
            section_bases[i] = s.address();
        }
    }

    let mut sections = Vec::new();
    let mut has_info = false;
    for id in DWARF_SECTIONS {
        let Some(sec) = file.section_by_name(id.name()) else {
            sections.push((id, SectionData::Empty));
            continue;
        };
        // A compressed section announces its size; refuse sizes no real compressor
        // produces (zlib and zstd stay far below 1100:1) before allocating them.
        let compressed = sec
            .compressed_data()
            .map_err(|e| SymbolizeError::malformed(path, format!("section {}: {e}", id.name())))?;
        if compressed.format != object::CompressionFormat::None {
            let limit = (compressed.data.len() as u64)
                .saturating_mul(1100)
                .saturating_add(4096);
            if compressed.uncompressed_size > limit.min(MAX_SECTION) {
                return Err(SymbolizeError::malformed(
                    path,
                    format!(
                        "section {} claims {} uncompressed bytes from {} compressed",
                        id.name(),
                        compressed.uncompressed_size,
                        compressed.data.len()
                    ),
                ));
            }
        }
        let data = compressed
            .decompress()
            .map_err(|e| SymbolizeError::malformed(path, format!("section {}: {e}", id.name())))?;
        if id == gimli::SectionId::DebugInfo && !data.is_empty() {
            has_info = true;
        }
        let data = if relocatable {
            let mut owned = data.into_owned();
            relocate(path, &file, &sec, &section_bases, &mut owned)?;
            SectionData::Owned(owned)
        } else {
            match data {
                Cow::Borrowed(b) => SectionData::Mapped {
                    start: b.as_ptr() as usize - base_ptr,
                    len: b.len(),
                },
                Cow::Owned(v) => SectionData::Owned(v),
            }
        };
        sections.push((id, data));
    }
    if !has_info {
        return Err(SymbolizeError::NoDebugInfo {
            path: path.to_owned(),
        });
    }

    let symtab = if want_symbols {
        let mut raw = Vec::new();
        for sym in file.symbols() {
            let SymbolSectionIdx(Some(si)) = SymbolSectionIdx::of(&sym) else {
                continue;
            };
            let Some(sec) = file.section_by_index(SectionIndex(si)).ok() else {
                continue;
            };
            let exec = matches!(sec.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & u64::from(object::elf::SHF_EXECINSTR) != 0);
            if !exec
                || matches!(
                    sym.kind(),
                    object::SymbolKind::Section | object::SymbolKind::File
                )
            {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            if name.is_empty()
                || name.starts_with(".L")
                || name.starts_with('$')
                || name.starts_with("L0")
            {
                continue;
            }
            let base = if relocatable {
                section_bases.get(si).copied().unwrap_or(0)
            } else {
                0
            };
            raw.push(RawSym {
                addr: base.wrapping_add(sym.address()),
                elf_size: sym.size(),
                section: si as u32,
                is_func: sym.kind() == object::SymbolKind::Text,
                index: sym.index().0 as u32,
                name: name.to_owned(),
            });
        }
        if raw.is_empty() {
            return Err(SymbolizeError::NoSymbols {
                path: path.to_owned(),
            });
        }
        let ends: Vec<(u32, u64)> = file
            .sections()
            .map(|s| {
                let i = s.index().0;
                let base = section_bases.get(i).copied().unwrap_or(0);
                (i as u32, base.wrapping_add(s.size()))
            })
            .collect();
        Symtab::build(raw, &ends)
    } else {
        Symtab::default()
    };

    let file = Arc::new(DebugFile {
        path: path.to_owned(),
        build_id,
        relocatable,
        bytes,
        sections,
        section_names,
        section_bases,
    });
    Ok(Loaded { file, symtab })
}

/// The section index of a symbol, when it is defined in a regular section.
struct SymbolSectionIdx(Option<usize>);
impl SymbolSectionIdx {
    fn of(sym: &object::Symbol<'_, '_>) -> Self {
        match sym.section() {
            object::SymbolSection::Section(i) => Self(Some(i.0)),
            _ => Self(None),
        }
    }
}

/// Applies the relocations that target `sec` (a `.debug_*` section of an ET_REL object).
fn relocate(
    path: &Path,
    file: &object::File<'_>,
    sec: &object::Section<'_, '_>,
    bases: &[u64],
    data: &mut [u8],
) -> Result<(), SymbolizeError> {
    for (offset, rel) in sec.relocations() {
        let RelocationTarget::Symbol(si) = rel.target() else {
            continue;
        };
        let Ok(sym) = file.symbol_by_index(si) else {
            return Err(SymbolizeError::malformed(
                path,
                format!("relocation against bad symbol {}", si.0),
            ));
        };
        let base = match sym.section() {
            object::SymbolSection::Section(i) => bases.get(i.0).copied().unwrap_or(0),
            _ => 0,
        };
        let value = base
            .wrapping_add(sym.address())
            .wrapping_add(rel.addend() as u64);
        let Ok(off) = usize::try_from(offset) else {
            continue;
        };
        match (rel.kind(), rel.size()) {
            (object::RelocationKind::Absolute, 64) => {
                if let Some(dst) = data.get_mut(off..off.wrapping_add(8)) {
                    dst.copy_from_slice(&value.to_le_bytes());
                }
            }
            (object::RelocationKind::Absolute, 32) => {
                if let Some(dst) = data.get_mut(off..off.wrapping_add(4)) {
                    dst.copy_from_slice(&(value as u32).to_le_bytes());
                }
            }
            // PC-relative or other relocations do not occur in debug sections we read.
            _ => {}
        }
    }
    Ok(())
}

impl DebugFile {
    /// The bytes of one DWARF section (empty when absent).
    pub fn section(&self, id: gimli::SectionId) -> &[u8] {
        for (sid, data) in &self.sections {
            if *sid == id {
                return match data {
                    SectionData::Empty => &[],
                    SectionData::Mapped { start, len } => {
                        self.bytes.get(*start..start + len).unwrap_or(&[])
                    }
                    SectionData::Owned(v) => v,
                };
            }
        }
        &[]
    }

    /// A gimli view of the DWARF, borrowing this file.
    pub fn dwarf(&self) -> gimli::Dwarf<gimli::EndianSlice<'_, gimli::LittleEndian>> {
        gimli::Dwarf::load(|id| -> Result<_, std::convert::Infallible> {
            Ok(gimli::EndianSlice::new(
                self.section(id),
                gimli::LittleEndian,
            ))
        })
        .unwrap_or_else(|e: std::convert::Infallible| match e {})
    }

    /// Bytes held in memory beyond the page cache (decompressed or relocated sections).
    pub fn owned_bytes(&self) -> usize {
        self.sections
            .iter()
            .map(|(_, d)| match d {
                SectionData::Owned(v) => v.len(),
                _ => 0,
            })
            .sum()
    }
}
