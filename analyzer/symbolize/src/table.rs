//! The address table: sorted address segments, each pointing to the innermost source
//! location of an inline chain (SymCache-style). One per compilation unit when built
//! lazily, one merged table per debug file in the persisted index.

use crate::fxhash::FxHashMap as HashMap;

/// "No entry" in the index fields.
pub const NONE: u32 = u32::MAX;

/// One source location; `parent` is the call site in the caller for inlined code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: u32,
    pub line: u32,
    pub col: u32,
    pub func: u32,
    pub parent: u32,
}

/// One entry of a resolved chain, borrowing the table's strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry<'a> {
    pub function: Option<&'a str>,
    pub file: Option<&'a str>,
    pub line: u32,
    pub column: u32,
    pub inlined: bool,
}

/// Segments `[starts[i], starts[i+1])` map to `seg_loc[i]` (NONE for a gap).
#[derive(Debug, Default, Clone)]
pub struct Table {
    pub starts: Vec<u64>,
    pub seg_loc: Vec<u32>,
    pub locs: Vec<Loc>,
    pub spans: Vec<(u32, u32)>,
    pub text: Vec<u8>,
}

/// Block size of the coarse search array.
pub const COARSE: usize = 128;

/// Maximum inline depth followed when resolving (protects against cyclic corrupt data).
const MAX_CHAIN: usize = 256;

/// Read access to an address table, in memory (`Table`) or mapped from an index
/// (`index::WarmTable`); the lookup is written once, here.
pub trait TableView {
    fn segments(&self) -> usize;
    fn start(&self, i: usize) -> u64;
    fn seg_loc(&self, i: usize) -> u32;
    fn loc(&self, i: u32) -> Option<Loc>;
    fn string(&self, i: u32) -> Option<&str>;

    /// The inline chain at `pc`, innermost first; empty when `pc` is not covered.
    /// Every `COARSE`-th segment start, for a first search in cache (may be empty).
    fn coarse(&self) -> &[u64] {
        &[]
    }

    fn chain(&self, pc: u64) -> Vec<ChainEntry<'_>> {
        // Binary search for the number of segments starting at or before pc, first over
        // the coarse array (small, cached), then inside one block of the big one.
        let coarse = self.coarse();
        let (mut lo, mut hi) = if coarse.is_empty() {
            (0usize, self.segments())
        } else {
            let k = coarse.partition_point(|&s| s <= pc);
            if k == 0 {
                (0, 0)
            } else {
                ((k - 1) * COARSE, (k * COARSE).min(self.segments()))
            }
        };
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.start(mid) <= pc {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut out = Vec::new();
        if lo == 0 {
            return out;
        }
        let mut l = self.seg_loc(lo - 1);
        while l != NONE && out.len() < MAX_CHAIN {
            let Some(loc) = self.loc(l) else { break };
            out.push(ChainEntry {
                function: self.string(loc.func),
                file: self.string(loc.file),
                line: loc.line,
                column: loc.col,
                inlined: loc.parent != NONE,
            });
            l = loc.parent;
        }
        out
    }
}

impl TableView for Table {
    fn segments(&self) -> usize {
        self.starts.len().min(self.seg_loc.len())
    }
    fn start(&self, i: usize) -> u64 {
        self.starts.get(i).copied().unwrap_or(u64::MAX)
    }
    fn seg_loc(&self, i: usize) -> u32 {
        self.seg_loc.get(i).copied().unwrap_or(NONE)
    }
    fn loc(&self, i: u32) -> Option<Loc> {
        self.locs.get(i as usize).copied()
    }
    fn string(&self, i: u32) -> Option<&str> {
        let &(off, len) = self.spans.get(i as usize)?;
        let b = self
            .text
            .get(off as usize..(off as usize).checked_add(len as usize)?)?;
        std::str::from_utf8(b).ok()
    }
}

impl Table {
    /// Heap bytes held, for the cache's memory bound.
    pub fn heap_bytes(&self) -> usize {
        self.starts.len() * 8
            + self.seg_loc.len() * 4
            + self.locs.len() * 20
            + self.spans.len() * 8
            + self.text.len()
    }

    /// Merges per-unit tables into one (the persisted index), deduplicating strings
    /// and locations; where units overlap, the earlier segment wins.
    pub fn merge(parts: &[&Table]) -> Table {
        let mut out = Table::default();
        let mut strs: HashMap<Vec<u8>, u32> = HashMap::default();
        let mut locs: HashMap<Loc, u32> = HashMap::default();
        let mut segs: Vec<(u64, u64, u32)> = Vec::new();
        for t in parts {
            let mut smap = vec![NONE; t.spans.len()];
            for (i, _) in t.spans.iter().enumerate() {
                if let Some(s) = TableView::string(*t, i as u32) {
                    let next = out.spans.len() as u32;
                    let id = *strs.entry(s.as_bytes().to_vec()).or_insert_with(|| {
                        out.spans.push((out.text.len() as u32, s.len() as u32));
                        out.text.extend_from_slice(s.as_bytes());
                        next
                    });
                    smap[i] = id;
                }
            }
            let remap_s = |i: u32| {
                if i == NONE {
                    NONE
                } else {
                    smap.get(i as usize).copied().unwrap_or(NONE)
                }
            };
            // Locations reference parents with smaller or larger ids; remap in two passes.
            let mut lmap = vec![NONE; t.locs.len()];
            // Parents are interned before children by the builder, so index order works;
            // fall back to NONE for a forward parent reference (corrupt input).
            for (i, l) in t.locs.iter().enumerate() {
                let parent = if l.parent == NONE {
                    NONE
                } else {
                    lmap.get(l.parent as usize).copied().unwrap_or(NONE)
                };
                let nl = Loc {
                    file: remap_s(l.file),
                    line: l.line,
                    col: l.col,
                    func: remap_s(l.func),
                    parent,
                };
                let next = out.locs.len() as u32;
                let id = *locs.entry(nl).or_insert_with(|| {
                    out.locs.push(nl);
                    next
                });
                lmap[i] = id;
            }
            for (k, (&s, &l)) in t.starts.iter().zip(&t.seg_loc).enumerate() {
                if l == NONE {
                    continue;
                }
                let end = t.starts.get(k + 1).copied().unwrap_or(u64::MAX);
                segs.push((s, end, lmap.get(l as usize).copied().unwrap_or(NONE)));
            }
        }
        segs.sort_by_key(|s| s.0);
        let mut covered = 0u64;
        for (s, e, l) in segs {
            let s = s.max(covered);
            if s >= e {
                continue;
            }
            if out.starts.last() == Some(&s) {
                // A gap marker at the same address is replaced by this segment.
                out.starts.pop();
                out.seg_loc.pop();
            }
            if out.seg_loc.last() != Some(&l) || covered != s {
                out.starts.push(s);
                out.seg_loc.push(l);
            }
            out.starts.push(e);
            out.seg_loc.push(NONE);
            covered = e;
        }
        out
    }
}

/// Builds a `Table`: interns strings and locations, appends segments.
#[derive(Debug, Default)]
pub struct TableBuilder {
    pub table: Table,
    strs: HashMap<Vec<u8>, u32>,
    locs: HashMap<Loc, u32>,
}

impl TableBuilder {
    pub fn intern_str(&mut self, s: &[u8]) -> u32 {
        if let Some(&i) = self.strs.get(s) {
            return i;
        }
        let i = self.table.spans.len() as u32;
        self.table
            .spans
            .push((self.table.text.len() as u32, s.len() as u32));
        self.table.text.extend_from_slice(s);
        self.strs.insert(s.to_vec(), i);
        i
    }

    pub fn intern_loc(&mut self, l: Loc) -> u32 {
        if let Some(&i) = self.locs.get(&l) {
            return i;
        }
        let i = self.table.locs.len() as u32;
        self.table.locs.push(l);
        self.locs.insert(l, i);
        i
    }

    /// Appends a segment starting at `start` (merging with an equal predecessor).
    pub fn push_segment(&mut self, start: u64, loc: u32) {
        let t = &mut self.table;
        if let Some(&last) = t.starts.last()
            && last == start
        {
            t.seg_loc.pop();
            t.starts.pop();
        }
        if t.seg_loc.last() == Some(&loc) {
            return;
        }
        t.starts.push(start);
        t.seg_loc.push(loc);
    }

    pub fn finish(mut self) -> Table {
        self.table.starts.shrink_to_fit();
        self.table.seg_loc.shrink_to_fit();
        self.table.locs.shrink_to_fit();
        self.table
    }
}
