//! The ELF symbol table with kallsyms-style lengths: name lookup (clones, duplicated
//! static names, stripped `.llvm.<hash>` suffixes) and address lookup.
//!
//! The length the kernel prints after the slash is not `st_size`: kallsyms knows no
//! sizes and prints the distance to the next symbol (padding included). We compute it the
//! way `scripts/faddr2line` does: the next higher symbol address in the same section,
//! or the end of the section for the last symbol.

/// A symbol as read from the ELF file, before lengths are computed.
#[derive(Debug, Clone)]
pub struct RawSym {
    pub addr: u64,
    pub elf_size: u64,
    pub section: u32,
    pub is_func: bool,
    /// The index in the ELF symbol table: among aliases at one address the last wins,
    /// as in llvm-symbolizer.
    pub index: u32,
    pub name: String,
}

/// One code symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sym {
    pub addr: u64,
    pub elf_size: u64,
    /// The kallsyms length: distance to the next symbol in the same section.
    pub ksize: u64,
    pub section: u32,
    pub is_func: bool,
    name_off: u32,
    name_len: u32,
}

/// The symbols of one object, sorted by address, with a by-name order.
#[derive(Debug, Default, Clone)]
pub struct Symtab {
    syms: Vec<Sym>,
    names: String,
    by_name: Vec<u32>,
    /// The addresses of `syms` alone: a compact array for the address binary search.
    addrs: Vec<u64>,
}

impl Symtab {
    /// Builds the table; `section_ends` gives (section index, end address) pairs.
    pub fn build(mut raw: Vec<RawSym>, section_ends: &[(u32, u64)]) -> Symtab {
        raw.sort_by_key(|a| (a.addr, a.is_func, a.index));
        let mut names = String::new();
        let mut syms = Vec::with_capacity(raw.len());
        // Per-section "next higher address", scanning backwards.
        let mut next_in_section: std::collections::HashMap<u32, u64> =
            section_ends.iter().copied().collect();
        let mut ksizes = vec![0u64; raw.len()];
        let mut i = raw.len();
        while i > 0 {
            // Group aliases at the same address: they share one length.
            let mut j = i - 1;
            while j > 0
                && raw[j - 1].addr == raw[i - 1].addr
                && raw[j - 1].section == raw[i - 1].section
            {
                j -= 1;
            }
            for k in j..i {
                let s = &raw[k];
                let next = next_in_section
                    .get(&s.section)
                    .copied()
                    .unwrap_or(s.addr.saturating_add(s.elf_size));
                ksizes[k] = next.saturating_sub(s.addr);
            }
            next_in_section.insert(raw[j].section, raw[j].addr);
            i = j;
        }
        // A marker at the very end of its section (`_einittext`) gets length 0 above;
        // kallsyms knows no sections and extends it to the next symbol anywhere.
        let mut next_any = u64::MAX;
        for k in (0..raw.len()).rev() {
            if ksizes[k] == 0 && next_any != u64::MAX {
                ksizes[k] = next_any - raw[k].addr;
            }
            if k == 0 || raw[k - 1].addr != raw[k].addr {
                next_any = raw[k].addr;
            }
        }
        for (s, ksize) in raw.into_iter().zip(ksizes) {
            let name_off = names.len() as u32;
            names.push_str(&s.name);
            syms.push(Sym {
                addr: s.addr,
                elf_size: s.elf_size,
                ksize,
                section: s.section,
                is_func: s.is_func,
                name_off,
                name_len: s.name.len() as u32,
            });
        }
        let mut t = Symtab {
            syms,
            names,
            by_name: Vec::new(),
            addrs: Vec::new(),
        };
        let mut order: Vec<u32> = (0..t.syms.len() as u32).collect();
        order.sort_by(|&a, &b| t.name(&t.syms[a as usize]).cmp(t.name(&t.syms[b as usize])));
        t.by_name = order;
        t.addrs = t.syms.iter().map(|s| s.addr).collect();
        t
    }

    pub fn len(&self) -> usize {
        self.syms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// The name of a symbol of this table.
    pub fn name(&self, s: &Sym) -> &str {
        let start = s.name_off as usize;
        self.names
            .get(start..start + s.name_len as usize)
            .unwrap_or("")
    }

    /// All symbols named exactly `name`.
    pub fn by_name(&self, name: &str) -> Vec<Sym> {
        let lo = self
            .by_name
            .partition_point(|&i| self.name(&self.syms[i as usize]) < name);
        self.by_name[lo..]
            .iter()
            .map(|&i| self.syms[i as usize])
            .take_while(|s| self.name(s) == name)
            .collect()
    }

    /// Symbols named `name.llvm.<digits>` (a Clang LTO kernel prints `name`).
    pub fn by_llvm_prefix(&self, name: &str) -> Vec<Sym> {
        let prefix = format!("{name}.llvm.");
        let lo = self
            .by_name
            .partition_point(|&i| self.name(&self.syms[i as usize]) < prefix.as_str());
        self.by_name[lo..]
            .iter()
            .map(|&i| self.syms[i as usize])
            .take_while(|s| self.name(s).starts_with(&prefix))
            .filter(|s| {
                self.name(s)[prefix.len()..]
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .collect()
    }

    /// The symbol whose kallsyms extent contains `addr` (among aliases: functions
    /// first, then the last in the ELF table).
    pub fn containing(&self, addr: u64) -> Option<Sym> {
        let i = self.addrs.partition_point(|&a| a <= addr);
        let s = *self.syms.get(i.checked_sub(1)?)?;
        (addr < s.addr.saturating_add(s.ksize.max(1))).then_some(s)
    }

    /// The symbol that contains `addr` within its ELF size (kallsyms extent for
    /// symbols without a size), as llvm-symbolizer looks names up.
    pub fn containing_sized(&self, addr: u64) -> Option<Sym> {
        let s = self.containing(addr)?;
        let size = if s.elf_size == 0 { s.ksize } else { s.elf_size };
        (addr < s.addr.saturating_add(size)).then_some(s)
    }

    /// Serializes the table (for the persisted index).
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.syms.len() as u64);
        for s in &self.syms {
            put_u64(out, s.addr);
            put_u64(out, s.elf_size);
            put_u64(out, s.ksize);
            put_u32(out, s.section);
            put_u32(out, u32::from(s.is_func));
            put_u32(out, s.name_off);
            put_u32(out, s.name_len);
        }
        for &i in &self.by_name {
            put_u32(out, i);
        }
        put_u64(out, self.names.len() as u64);
        out.extend_from_slice(self.names.as_bytes());
    }

    /// Reads what `encode` wrote; `None` when the bytes are inconsistent.
    pub fn decode(buf: &mut &[u8]) -> Option<Symtab> {
        let n = usize::try_from(take_u64(buf)?).ok()?;
        if n > buf.len() / 40 {
            return None;
        }
        let mut syms = Vec::with_capacity(n);
        for _ in 0..n {
            syms.push(Sym {
                addr: take_u64(buf)?,
                elf_size: take_u64(buf)?,
                ksize: take_u64(buf)?,
                section: take_u32(buf)?,
                is_func: take_u32(buf)? != 0,
                name_off: take_u32(buf)?,
                name_len: take_u32(buf)?,
            });
        }
        let mut by_name = Vec::with_capacity(n);
        for _ in 0..n {
            let i = take_u32(buf)?;
            if i as usize >= n {
                return None;
            }
            by_name.push(i);
        }
        let len = usize::try_from(take_u64(buf)?).ok()?;
        let bytes = buf.get(..len)?;
        let names = String::from_utf8(bytes.to_vec()).ok()?;
        *buf = &buf[len..];
        for s in &syms {
            let end = (s.name_off as usize).checked_add(s.name_len as usize)?;
            if end > names.len()
                || !names.is_char_boundary(s.name_off as usize)
                || !names.is_char_boundary(end)
            {
                return None;
            }
        }
        let addrs = syms.iter().map(|s| s.addr).collect();
        Some(Symtab {
            syms,
            names,
            by_name,
            addrs,
        })
    }

    /// Heap bytes held, for the cache's memory bound.
    pub fn heap_bytes(&self) -> usize {
        self.syms.len() * (std::mem::size_of::<Sym>() + 8)
            + self.names.len()
            + self.by_name.len() * 4
    }
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn take_u64(buf: &mut &[u8]) -> Option<u64> {
    let (head, rest) = buf.split_first_chunk::<8>()?;
    *buf = rest;
    Some(u64::from_le_bytes(*head))
}
pub(crate) fn take_u32(buf: &mut &[u8]) -> Option<u32> {
    let (head, rest) = buf.split_first_chunk::<4>()?;
    *buf = rest;
    Some(u32::from_le_bytes(*head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(addr: u64, size: u64, name: &str) -> RawSym {
        RawSym {
            addr,
            elf_size: size,
            section: 1,
            is_func: true,
            index: addr as u32,
            name: name.into(),
        }
    }

    // kallsyms lengths run to the next symbol (padding included), the last to the section end.
    #[test]
    fn kallsyms_lengths() {
        let t = Symtab::build(
            vec![
                raw(0x100, 0x10, "a"),
                raw(0x120, 0x8, "b"),
                raw(0x120, 0x4, "b_alias"),
            ],
            &[(1, 0x140)],
        );
        assert_eq!(t.by_name("a")[0].ksize, 0x20);
        assert_eq!(t.by_name("b")[0].ksize, 0x20);
        assert_eq!(t.by_name("b_alias")[0].ksize, 0x20);
        assert_eq!(t.containing(0x11f).map(|s| s.addr), Some(0x100));
        assert_eq!(t.containing(0x140), None);
    }

    // encode/decode round-trips and rejects truncation.
    #[test]
    fn encode_roundtrip() {
        let t = Symtab::build(
            vec![raw(0x100, 0x10, "a"), raw(0x120, 0x8, "foo.llvm.123")],
            &[(1, 0x140)],
        );
        let mut buf = Vec::new();
        t.encode(&mut buf);
        let d = Symtab::decode(&mut buf.as_slice()).expect("decodes");
        assert_eq!(d.by_llvm_prefix("foo").len(), 1);
        assert!(Symtab::decode(&mut &buf[..buf.len() - 1]).is_none());
    }
}
