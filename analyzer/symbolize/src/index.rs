//! The persisted index: one file per build id holding the symbol table and the merged
//! address table, so a restarted process answers without parsing DWARF.
//!
//! Layout (little-endian), version 1:
//! `magic "CSFTIDX\0"` · `version u32` · `build-id length u32` · `build id (64 bytes,
//! zero padded)` · `payload length u64` · payload (symbol table, then address table) ·
//! `checksum u64` over everything before it. Files are written to a temporary name and
//! renamed, so a reader never sees a partial index; any mismatch makes the index unusable
//! (the caller falls back to DWARF and rewrites it).

use crate::mmap::Bytes;
use crate::symtab::{Symtab, put_u32, put_u64, take_u32, take_u64};
use crate::table::{Loc, NONE, Table, TableView};
use crashsift_model::BuildId;

const MAGIC: &[u8; 8] = b"CSFTIDX\0";
/// Bumped whenever the layout or the meaning of a field changes.
pub const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 4 + 64 + 8;

/// Serializes an index.
pub fn encode(build_id: &BuildId, symtab: &Symtab, table: &Table) -> Vec<u8> {
    let mut payload = Vec::new();
    symtab.encode(&mut payload);
    encode_table(table, &mut payload);
    let mut out = Vec::with_capacity(HEADER + payload.len() + 8);
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, VERSION);
    let id = hex::decode(build_id.as_str()).unwrap_or_default();
    put_u32(&mut out, id.len().min(64) as u32);
    let mut idbuf = [0u8; 64];
    for (d, s) in idbuf.iter_mut().zip(&id) {
        *d = *s;
    }
    out.extend_from_slice(&idbuf);
    put_u64(&mut out, payload.len() as u64);
    out.extend_from_slice(&payload);
    let sum = checksum(&out);
    put_u64(&mut out, sum);
    out
}

/// Reads an index, checking magic, version, build id and checksum. The address table
/// stays in `bytes` (mapped), so only the pages a lookup touches are ever read again.
pub fn decode(bytes: Bytes, build_id: &BuildId) -> Result<(Symtab, WarmTable), String> {
    if bytes.len() < HEADER + 8 || &bytes[..8] != MAGIC {
        return Err("not a crashsift index (bad magic or too short)".into());
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let mut s = &bytes[8..];
    let version = take_u32(&mut s).ok_or("truncated header")?;
    if version != VERSION {
        return Err(format!(
            "index version {version}, this build reads {VERSION}"
        ));
    }
    let idlen = take_u32(&mut s).ok_or("truncated header")? as usize;
    let id = s.get(..idlen.min(64)).ok_or("truncated header")?;
    if hex::encode(id) != build_id.as_str() {
        return Err(format!(
            "index is for build id {}, not {build_id}",
            hex::encode(id)
        ));
    }
    let want = u64::from_le_bytes(sum.try_into().map_err(|_| "truncated checksum")?);
    if checksum(body) != want {
        return Err("checksum mismatch".into());
    }
    let mut s = body.get(HEADER..).ok_or("truncated payload")?;
    let symtab = Symtab::decode(&mut s).ok_or("bad symbol table")?;
    let table_at = body.len() - s.len();
    let layout = table_layout(&mut s)
        .ok_or("bad address table")?
        .shifted(table_at);
    let mut t = WarmTable {
        bytes,
        layout,
        coarse: Vec::new(),
    };
    t.coarse = (0..layout.nseg)
        .step_by(crate::table::COARSE)
        .map(|i| t.start(i))
        .collect();
    if t.coarse.windows(2).any(|w| w[0] > w[1]) {
        return Err("address table is not sorted".into());
    }
    Ok((symtab, t))
}

/// Offsets of the arrays of an encoded address table.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    starts: usize,
    nseg: usize,
    seg_loc: usize,
    locs: usize,
    nloc: usize,
    spans: usize,
    nspan: usize,
    text: usize,
    ntext: usize,
}

impl Layout {
    fn shifted(mut self, by: usize) -> Layout {
        self.starts += by;
        self.seg_loc += by;
        self.locs += by;
        self.spans += by;
        self.text += by;
        self
    }
}

fn table_layout(buf: &mut &[u8]) -> Option<Layout> {
    let total = buf.len();
    let pos = |b: &[u8]| total - b.len();
    let nseg = usize::try_from(take_u64(buf)?).ok()?;
    let starts = pos(buf);
    take(buf, nseg.checked_mul(8)?)?;
    let seg_loc = pos(buf);
    take(buf, nseg.checked_mul(4)?)?;
    let nloc = usize::try_from(take_u64(buf)?).ok()?;
    let locs = pos(buf);
    take(buf, nloc.checked_mul(20)?)?;
    let nspan = usize::try_from(take_u64(buf)?).ok()?;
    let spans = pos(buf);
    take(buf, nspan.checked_mul(8)?)?;
    let ntext = usize::try_from(take_u64(buf)?).ok()?;
    let text = pos(buf);
    take(buf, ntext)?;
    let l = Layout {
        starts,
        nseg,
        seg_loc,
        locs,
        nloc,
        spans,
        nspan,
        text,
        ntext,
    };
    Some(l)
}

/// An address table read in place from an index file.
#[derive(Debug)]
pub struct WarmTable {
    bytes: Bytes,
    layout: Layout,
    coarse: Vec<u64>,
}

impl WarmTable {
    fn u32_at(&self, off: usize) -> u32 {
        self.bytes
            .get(off..off + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(NONE, u32::from_le_bytes)
    }

    /// Bytes held on the heap (zero when mapped).
    pub fn heap_bytes(&self) -> usize {
        match &self.bytes {
            Bytes::Mapped(_) => 0,
            Bytes::Owned(v) => v.len(),
        }
    }
}

impl TableView for WarmTable {
    fn coarse(&self) -> &[u64] {
        &self.coarse
    }
    fn segments(&self) -> usize {
        self.layout.nseg
    }
    fn start(&self, i: usize) -> u64 {
        let off = self.layout.starts + i * 8;
        self.bytes
            .get(off..off + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(u64::MAX, u64::from_le_bytes)
    }
    fn seg_loc(&self, i: usize) -> u32 {
        self.u32_at(self.layout.seg_loc + i * 4)
    }
    fn loc(&self, i: u32) -> Option<Loc> {
        let i = i as usize;
        if i >= self.layout.nloc {
            return None;
        }
        let o = self.layout.locs + i * 20;
        Some(Loc {
            file: self.u32_at(o),
            line: self.u32_at(o + 4),
            col: self.u32_at(o + 8),
            func: self.u32_at(o + 12),
            parent: self.u32_at(o + 16),
        })
    }
    fn string(&self, i: u32) -> Option<&str> {
        let i = i as usize;
        if i >= self.layout.nspan {
            return None;
        }
        let o = self.layout.spans + i * 8;
        let (off, len) = (self.u32_at(o) as usize, self.u32_at(o + 4) as usize);
        if off.checked_add(len)? > self.layout.ntext {
            return None;
        }
        let start = self.layout.text + off;
        std::str::from_utf8(self.bytes.get(start..start + len)?).ok()
    }
}

fn encode_table(t: &Table, out: &mut Vec<u8>) {
    put_u64(out, t.starts.len() as u64);
    for &s in &t.starts {
        put_u64(out, s);
    }
    for &l in &t.seg_loc {
        put_u32(out, l);
    }
    put_u64(out, t.locs.len() as u64);
    for l in &t.locs {
        for v in [l.file, l.line, l.col, l.func, l.parent] {
            put_u32(out, v);
        }
    }
    put_u64(out, t.spans.len() as u64);
    for &(o, l) in &t.spans {
        put_u32(out, o);
        put_u32(out, l);
    }
    put_u64(out, t.text.len() as u64);
    out.extend_from_slice(&t.text);
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let head = buf.get(..n)?;
    *buf = &buf[n..];
    Some(head)
}

/// A fast non-cryptographic 64-bit checksum (four multiply-rotate lanes over u64 words).
pub fn checksum(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut lanes = [1u64, 2, 3, 4];
    let mut chunks = b.chunks_exact(32);
    for c in &mut chunks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(c[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
            *lane = (*lane ^ w).wrapping_mul(K).rotate_left(31);
        }
    }
    let mut h = (b.len() as u64).wrapping_mul(K);
    for &l in &lanes {
        h = (h ^ l).wrapping_mul(K).rotate_left(27);
    }
    for &byte in chunks.remainder() {
        h = (h ^ u64::from(byte)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symtab::RawSym;
    use crate::table::TableBuilder;

    fn sample() -> (Symtab, Table) {
        let st = Symtab::build(
            vec![RawSym {
                addr: 0x1000,
                elf_size: 0x10,
                section: 1,
                is_func: true,
                index: 1,
                name: "f".into(),
            }],
            &[(1, 0x1020)],
        );
        let mut b = TableBuilder::default();
        let f = b.intern_str(b"f");
        let file = b.intern_str(b"/src/a.c");
        let l = b.intern_loc(Loc {
            file,
            line: 3,
            col: 1,
            func: f,
            parent: u32::MAX,
        });
        b.push_segment(0x1000, l);
        b.push_segment(0x1010, u32::MAX);
        (st, b.finish())
    }

    // An index round-trips and answers the same chain.
    #[test]
    fn roundtrip() {
        let id = BuildId::parse("abcd").expect("valid");
        let (st, t) = sample();
        let bytes = encode(&id, &st, &t);
        let (st2, t2) = decode(Bytes::Owned(bytes), &id).expect("decodes");
        assert_eq!(st2.len(), 1);
        assert_eq!(t2.chain(0x1004)[0].line, 3);
        assert_eq!(t2.chain(0x1010).len(), 0);
    }

    // A flipped byte, another build id, or truncation are all rejected.
    #[test]
    fn rejects_damage() {
        let id = BuildId::parse("abcd").expect("valid");
        let (st, t) = sample();
        let bytes = encode(&id, &st, &t);
        let mut bad = bytes.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        assert!(
            decode(Bytes::Owned(bad), &id)
                .expect_err("flipped byte")
                .contains("checksum")
        );
        assert!(
            decode(
                Bytes::Owned(bytes.clone()),
                &BuildId::parse("abce").expect("valid")
            )
            .is_err()
        );
        assert!(decode(Bytes::Owned(bytes[..bytes.len() - 3].to_vec()), &id).is_err());
    }
}
