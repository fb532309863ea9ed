//! Our lazy DWARF index: which compilation unit covers an address (from
//! `.debug_aranges`, else the unit's own ranges), and the per-unit address table built
//! in one pass over the unit's line program and its subprogram/inlined-subroutine DIEs.
//!
//! Only units that contain requested addresses are parsed, in parallel over std threads.
//! A unit's table maps every address range to its innermost source location; the
//! location's `parent` chain is the inline stack (call sites with the caller's name).

use crate::elf::DebugFile;
use crate::fxhash::FxHashMap as HashMap;
use crate::table::{Loc, NONE, Table, TableBuilder};
use gimli::{AttributeValue, EndianSlice, LittleEndian, UnitOffset};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

type R<'a> = EndianSlice<'a, LittleEndian>;
type Dwarf<'a> = gimli::Dwarf<R<'a>>;
type Unit<'a> = gimli::Unit<R<'a>>;

/// A unit's table, complete or built only for some addresses.
#[derive(Debug)]
pub struct UnitTable {
    pub table: Table,
    /// Subprogram ranges whose inline trees were skipped (no requested address in
    /// them): a lookup there needs a full rebuild. Sorted by start; empty when complete.
    skipped: Vec<(u64, u64)>,
}

impl UnitTable {
    /// Whether the table answers `pc` completely.
    pub fn covers(&self, pc: u64) -> bool {
        let i = self.skipped.partition_point(|r| r.0 <= pc);
        !(i > 0 && pc < self.skipped[i - 1].1)
    }
}

type Slot = RwLock<Option<Arc<Result<UnitTable, String>>>>;

/// Address ranges of units and, lazily, each unit's table.
#[derive(Debug)]
pub struct UnitIndex {
    /// Non-overlapping `(start, end, unit)` sorted by start.
    ranges: Vec<(u64, u64, u32)>,
    units: Vec<gimli::DebugInfoOffset>,
    tables: Vec<Slot>,
    /// Heap bytes of built tables.
    pub built_bytes: AtomicUsize,
}

impl UnitIndex {
    /// Reads the unit headers and their address ranges.
    pub fn build(file: &DebugFile) -> Result<UnitIndex, String> {
        let dwarf = file.dwarf();
        let mut units = Vec::new();
        let mut iter = dwarf.units();
        loop {
            match iter.next() {
                Ok(Some(h)) => {
                    if let Some(off) = h.offset().as_debug_info_offset() {
                        units.push(off);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if units.is_empty() {
                        return Err(format!(".debug_info unit headers: {e}"));
                    }
                    break; // keep the units read before the corruption
                }
            }
        }
        let pos: HashMap<gimli::DebugInfoOffset, u32> = units
            .iter()
            .enumerate()
            .map(|(i, o)| (*o, i as u32))
            .collect();
        let mut ranges = Vec::new();
        let mut covered = vec![false; units.len()];
        let mut headers = dwarf.debug_aranges.headers();
        while let Ok(Some(h)) = headers.next() {
            let Some(&u) = pos.get(&h.debug_info_offset()) else {
                continue;
            };
            let mut entries = h.entries();
            while let Ok(Some(e)) = entries.next() {
                let r = e.range();
                if r.begin != 0 && r.end > r.begin {
                    ranges.push((r.begin, r.end, u));
                    covered[u as usize] = true;
                }
            }
        }
        // Units without aranges: read their root DIE ranges.
        for (u, off) in units.iter().enumerate() {
            if covered[u] {
                continue;
            }
            let Ok(header) = dwarf.debug_info.header_from_offset(*off) else {
                continue;
            };
            let Ok(unit) = dwarf.unit(header) else {
                continue;
            };
            // Not gimli's `unit_ranges`: it adds low_pc + high_pc unchecked (fuzzing).
            let Ok(mut entries) = unit.entries_raw(None) else {
                continue;
            };
            let Ok(Some(abbrev)) = entries.read_abbreviation() else {
                continue;
            };
            let (mut low, mut high, mut rattr) = (None, None, None);
            for spec in abbrev.attributes() {
                let Ok(attr) = entries.read_attribute(*spec) else {
                    break;
                };
                match attr.name() {
                    gimli::DW_AT_low_pc => {
                        low = dwarf.attr_address(&unit, attr.value()).ok().flatten()
                    }
                    gimli::DW_AT_high_pc => high = Some(attr.value()),
                    gimli::DW_AT_ranges => rattr = Some(attr.value()),
                    _ => {}
                }
            }
            for (b, e) in die_ranges(&dwarf, &unit, low, high, rattr) {
                ranges.push((b, e, u as u32));
            }
        }
        ranges.sort_unstable();
        let mut clean: Vec<(u64, u64, u32)> = Vec::with_capacity(ranges.len());
        let mut covered_to = 0u64;
        for (s, e, u) in ranges {
            let s = s.max(covered_to);
            if s < e {
                clean.push((s, e, u));
                covered_to = e;
            }
        }
        let tables = (0..units.len()).map(|_| RwLock::new(None)).collect();
        Ok(UnitIndex {
            ranges: clean,
            units,
            tables,
            built_bytes: AtomicUsize::new(0),
        })
    }

    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// The unit whose ranges contain `pc`.
    pub fn unit_of(&self, pc: u64) -> Option<usize> {
        let i = self.ranges.partition_point(|r| r.0 <= pc);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (pc < r.1).then_some(r.2 as usize)
    }

    fn get(&self, u: usize) -> Option<Arc<Result<UnitTable, String>>> {
        self.tables
            .get(u)?
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set(&self, u: usize, t: Result<UnitTable, String>) -> Arc<Result<UnitTable, String>> {
        if let Ok(t) = &t {
            self.built_bytes
                .fetch_add(t.table.heap_bytes(), Ordering::Relaxed);
        }
        let t = Arc::new(t);
        if let Some(slot) = self.tables.get(u) {
            *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(t.clone());
        }
        t
    }

    /// Makes sure `pcs` can be answered: parses the units they fall in, in parallel,
    /// only the subprograms holding them when the unit was not parsed before, and the
    /// whole unit when an earlier partial parse skipped one of them.
    pub fn prepare(&self, file: &DebugFile, pcs: &[u64], threads: usize) {
        let mut by_unit: Vec<(usize, u64)> = pcs
            .iter()
            .filter_map(|&pc| Some((self.unit_of(pc)?, pc)))
            .collect();
        by_unit.sort_unstable();
        by_unit.dedup();
        let mut todo: Vec<(usize, Option<Vec<u64>>)> = Vec::new();
        for group in by_unit.chunk_by(|a, b| a.0 == b.0) {
            let u = group[0].0;
            match self.get(u) {
                None => todo.push((u, Some(group.iter().map(|g| g.1).collect()))),
                Some(t) => {
                    if let Ok(t) = &*t
                        && !group.iter().all(|g| t.covers(g.1))
                    {
                        todo.push((u, None));
                    }
                }
            }
        }
        self.build_units(file, todo, threads);
    }

    fn build_units(&self, file: &DebugFile, todo: Vec<(usize, Option<Vec<u64>>)>, threads: usize) {
        if todo.is_empty() {
            return;
        }
        let next = AtomicUsize::new(0);
        let work = || {
            let dwarf = file.dwarf();
            let mut scratch = Scratch::default();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((u, wanted)) = todo.get(k) else {
                    break;
                };
                let Some(&off) = self.units.get(*u) else {
                    continue;
                };
                self.set(
                    *u,
                    build_unit_table(&dwarf, off, wanted.as_deref(), &mut scratch),
                );
            }
        };
        let threads = threads.clamp(1, 16).min(todo.len());
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
    }

    /// The complete-enough table of the unit holding `pc`, building it when needed.
    pub fn table_for(&self, file: &DebugFile, pc: u64) -> Option<Arc<Result<UnitTable, String>>> {
        let u = self.unit_of(pc)?;
        if let Some(t) = self.get(u) {
            match &*t {
                Ok(ut) if !ut.covers(pc) => {}
                _ => return Some(t),
            }
        }
        let off = *self.units.get(u)?;
        Some(self.set(
            u,
            build_unit_table(&file.dwarf(), off, None, &mut Scratch::default()),
        ))
    }

    /// Builds every unit's complete table and merges them (the persisted index).
    pub fn build_all(&self, file: &DebugFile, threads: usize) -> Table {
        let todo: Vec<(usize, Option<Vec<u64>>)> = (0..self.units.len())
            .filter(|&u| match self.get(u) {
                Some(t) => t.as_ref().as_ref().is_ok_and(|t| !t.skipped.is_empty()),
                None => true,
            })
            .map(|u| (u, None))
            .collect();
        self.build_units(file, todo, threads);
        let all: Vec<Arc<Result<UnitTable, String>>> =
            (0..self.units.len()).filter_map(|u| self.get(u)).collect();
        let parts: Vec<&Table> = all
            .iter()
            .filter_map(|t| t.as_ref().as_ref().ok().map(|t| &t.table))
            .collect();
        Table::merge(&parts)
    }
}

/// A subprogram or inlined subroutine with code.
#[derive(Debug)]
struct Node {
    parent: u32,
    inlined: bool,
    name: u32,
    call_file: u64,
    call_line: u32,
    call_col: u32,
    depth: u32,
}

/// The code ranges of a DIE from its `DW_AT_ranges` or `DW_AT_low_pc`/`DW_AT_high_pc`
/// (zero-based ranges, discarded code in a linked file, are dropped).
fn die_ranges<'a>(
    dwarf: &Dwarf<'a>,
    unit: &Unit<'a>,
    low: Option<u64>,
    high: Option<AttributeValue<R<'a>>>,
    ranges_attr: Option<AttributeValue<R<'a>>>,
) -> Vec<(u64, u64)> {
    let mut rs = Vec::new();
    if let Some(v) = ranges_attr {
        if let Ok(Some(ro)) = dwarf.attr_ranges_offset(unit, v)
            && let Ok(mut it) = dwarf.ranges(unit, ro)
        {
            // Bounded: a corrupt list cannot make us loop for long.
            for _ in 0..1_000_000 {
                match it.next() {
                    Ok(Some(r)) => {
                        if r.begin != 0 && r.end > r.begin {
                            rs.push((r.begin, r.end));
                        }
                    }
                    _ => break,
                }
            }
        }
    } else if let Some(lo) = low {
        let hi = match high {
            Some(AttributeValue::Addr(a)) => Some(a),
            Some(AttributeValue::DebugAddrIndex(i)) => dwarf.address(unit, i).ok(),
            Some(v) => v.udata_value().and_then(|n| lo.checked_add(n)),
            None => None,
        };
        if let Some(hi) = hi
            && lo != 0
            && hi > lo
        {
            rs.push((lo, hi));
        }
    }
    rs
}

/// Whether a sorted list of pcs has one inside `[s, e)`.
fn any_in(pcs: &[u64], s: u64, e: u64) -> bool {
    let i = pcs.partition_point(|&p| p < s);
    pcs.get(i).is_some_and(|&p| p < e)
}

/// Parses one unit into its table. With `wanted` (sorted pcs), subprograms that hold
/// none of them are skipped through `DW_AT_sibling` and recorded as skipped.
/// Work buffers reused from unit to unit by one thread (large vectors would otherwise be
/// mapped, faulted in and unmapped for every unit).
#[derive(Default)]
struct Scratch {
    nodes: Vec<Node>,
    node_ranges: Vec<(u64, u64, u32)>,
    events: Vec<(u64, bool, u32)>,
    inner: Vec<(u64, u32)>,
    rows: Vec<(u64, u64, u64, u32, u32)>,
    points: Vec<u64>,
    callsite: Vec<u32>,
}

fn build_unit_table(
    dwarf: &Dwarf<'_>,
    off: gimli::DebugInfoOffset,
    wanted: Option<&[u64]>,
    scratch: &mut Scratch,
) -> Result<UnitTable, String> {
    let Scratch {
        nodes,
        node_ranges,
        events,
        inner,
        rows,
        points,
        callsite,
    } = scratch;
    nodes.clear();
    node_ranges.clear();
    events.clear();
    inner.clear();
    rows.clear();
    points.clear();
    callsite.clear();
    let header = dwarf
        .debug_info
        .header_from_offset(off)
        .map_err(|e| e.to_string())?;
    let unit = dwarf.unit(header).map_err(|e| e.to_string())?;
    let mut b = TableBuilder::default();
    let mut files = FileNames::default();
    let mut skipped: Vec<(u64, u64)> = Vec::new();

    // 1. The DIE tree: nodes with their ranges.
    let mut names: HashMap<UnitOffset, u32> = HashMap::default();
    let mut stack: Vec<(isize, u32)> = Vec::new();
    let mut entries = unit.entries_raw(None).map_err(|e| e.to_string())?;
    // Depth of the iterator's start, after a jump to a sibling.
    let mut base: isize = 0;
    while !entries.is_empty() {
        let depth = base + entries.next_depth();
        let here = entries.next_offset();
        let abbrev = match entries.read_abbreviation() {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(e) => return Err(e.to_string()),
        };
        while stack.last().is_some_and(|s| s.0 >= depth) {
            stack.pop();
        }
        let tag = abbrev.tag();
        let code_tag = tag == gimli::DW_TAG_subprogram || tag == gimli::DW_TAG_inlined_subroutine;
        if !code_tag {
            // Scopes that can hold inlined code are walked; other subtrees (types,
            // variables, parameters) are jumped over when the producer gave a sibling.
            let walk = depth == 0
                || tag == gimli::DW_TAG_lexical_block
                || tag == gimli::DW_TAG_namespace
                || !abbrev.has_children();
            if walk {
                entries
                    .skip_attributes(abbrev.attributes())
                    .map_err(|e| e.to_string())?;
                continue;
            }
            let mut sibling = None;
            for spec in abbrev.attributes() {
                if spec.name() == gimli::DW_AT_sibling {
                    let attr = entries.read_attribute(*spec).map_err(|e| e.to_string())?;
                    if let AttributeValue::UnitRef(o) = attr.value() {
                        sibling = Some(o);
                    }
                } else {
                    entries
                        .skip_attributes(std::slice::from_ref(spec))
                        .map_err(|e| e.to_string())?;
                }
            }
            if let Some(sib) = sibling.filter(|s| s.0 > here.0)
                && let Ok(e) = unit.entries_raw(Some(sib))
            {
                entries = e;
                base = depth;
            }
            continue;
        }
        let mut low = None;
        let mut high = None;
        let mut ranges_attr = None;
        let mut name_attr = None;
        let mut origin = None;
        let mut sibling = None;
        let (mut call_file, mut call_line, mut call_col) = (0u64, 0u32, 0u32);
        for spec in abbrev.attributes() {
            let attr = entries.read_attribute(*spec).map_err(|e| e.to_string())?;
            match attr.name() {
                gimli::DW_AT_low_pc => low = dwarf.attr_address(&unit, attr.value()).ok().flatten(),
                gimli::DW_AT_high_pc => high = Some(attr.value()),
                gimli::DW_AT_ranges => ranges_attr = Some(attr.value()),
                gimli::DW_AT_name => name_attr = Some(attr.value()),
                gimli::DW_AT_abstract_origin | gimli::DW_AT_specification => {
                    origin = Some(attr.value())
                }
                gimli::DW_AT_call_file => call_file = attr.udata_value().unwrap_or(0),
                gimli::DW_AT_call_line => call_line = attr.udata_value().unwrap_or(0) as u32,
                gimli::DW_AT_call_column => call_col = attr.udata_value().unwrap_or(0) as u32,
                gimli::DW_AT_sibling => {
                    if let AttributeValue::UnitRef(o) = attr.value() {
                        sibling = Some(o);
                    }
                }
                _ => {}
            }
        }
        let rs = die_ranges(dwarf, &unit, low, high, ranges_attr);
        let parent = stack.last().map_or(NONE, |s| s.1);
        // Jump over subprograms without code (declarations, abstract instances) and,
        // when only some pcs are wanted, over those holding none of them.
        let jump = abbrev.has_children()
            && tag == gimli::DW_TAG_subprogram
            && parent == NONE
            && (rs.is_empty() || wanted.is_some_and(|w| !rs.iter().any(|r| any_in(w, r.0, r.1))));
        if jump
            && let Some(sib) = sibling.filter(|s| s.0 > here.0)
            && let Ok(e) = unit.entries_raw(Some(sib))
        {
            if !rs.is_empty() {
                skipped.extend(rs.iter().copied());
                // Its own ranges still name the function (no inline detail).
            }
            entries = e;
            base = depth;
            if rs.is_empty() {
                continue;
            }
            let name = node_name(dwarf, &unit, name_attr, origin, &mut names, &mut b);
            let id = nodes.len() as u32;
            nodes.push(Node {
                parent: NONE,
                inlined: false,
                name,
                call_file,
                call_line,
                call_col,
                depth: 0,
            });
            for (s, e) in rs {
                node_ranges.push((s, e, id));
            }
            continue;
        }
        let id = if rs.is_empty() {
            NONE
        } else {
            let name = node_name(dwarf, &unit, name_attr, origin, &mut names, &mut b);
            let id = nodes.len() as u32;
            let d = if parent == NONE {
                0
            } else {
                nodes[parent as usize].depth + 1
            };
            nodes.push(Node {
                parent,
                inlined: tag == gimli::DW_TAG_inlined_subroutine,
                name,
                call_file,
                call_line,
                call_col,
                depth: d,
            });
            for (s, e) in rs {
                node_ranges.push((s, e, id));
            }
            id
        };
        if abbrev.has_children() {
            // A node without code still opens a scope; its children attach to our parent.
            stack.push((depth, if id == NONE { parent } else { id }));
        }
    }
    skipped.sort_unstable();

    // 2. Call-site locations per node (parents precede children).
    callsite.resize(nodes.len(), NONE);
    for i in 0..nodes.len() {
        let n = &nodes[i];
        if n.inlined && n.parent != NONE {
            let p = n.parent as usize;
            let file = files.path(dwarf, &unit, n.call_file, &mut b);
            let loc = Loc {
                file,
                line: n.call_line,
                col: n.call_col,
                func: nodes[p].name,
                parent: callsite[p],
            };
            callsite[i] = b.intern_loc(loc);
        }
    }

    // 3. Innermost node per elementary interval.

    for &(s, e, n) in node_ranges.iter() {
        events.push((s, true, n));
        events.push((e, false, n));
    }
    events.sort_unstable_by_key(|e| (e.0, e.1));
    let mut active: BTreeSet<(u32, u32)> = BTreeSet::new();
    // inner: (start, node or NONE)
    let mut k = 0;
    while k < events.len() {
        let pos = events[k].0;
        while k < events.len() && events[k].0 == pos {
            let (_, open, n) = events[k];
            let key = (nodes[n as usize].depth, n);
            if open {
                active.insert(key);
            } else {
                active.remove(&key);
            }
            k += 1;
        }
        let top = active.last().map_or(NONE, |a| a.1);
        if inner.last().map(|x| x.1) != Some(top) {
            inner.push((pos, top));
        }
    }

    // 4. Line rows.
    // rows: (start, end, file, line, col)
    if let Some(program) = unit.line_program.clone() {
        let mut it = program.rows();
        let mut prev: Option<(u64, u64, u32, u32)> = None;
        let mut seq_ok = true;
        loop {
            let row = match it.next_row() {
                Ok(Some((_, row))) => *row,
                Ok(None) => break,
                Err(_) => break, // keep the rows read so far
            };
            let addr = row.address();
            if let Some((pa, pf, pl, pc)) = prev {
                if seq_ok && addr > pa {
                    rows.push((pa, addr, pf, pl, pc));
                }
            } else {
                seq_ok = addr != 0 && addr != u64::MAX;
            }
            if row.end_sequence() {
                prev = None;
            } else {
                let col = match row.column() {
                    gimli::ColumnType::LeftEdge => 0,
                    gimli::ColumnType::Column(c) => c.get() as u32,
                };
                prev = Some((
                    addr,
                    row.file_index(),
                    row.line().map_or(0, |l| l.get() as u32),
                    col,
                ));
            }
        }
        if !skipped.is_empty() {
            // Rows wholly inside a skipped subprogram are never looked up in this table.
            rows.retain(|r| {
                let i = skipped.partition_point(|s| s.0 <= r.0);
                !(i > 0 && r.1 <= skipped[i - 1].1)
            });
        }
        rows.sort_unstable_by_key(|r| r.0);
    }

    // 5. Merge rows and innermost nodes over elementary intervals.

    for r in rows.iter() {
        points.push(r.0);
        points.push(r.1);
    }
    for x in inner.iter() {
        points.push(x.0);
    }
    points.sort_unstable();
    points.dedup();
    let mut ri = 0usize;
    let mut ni = 0usize;
    let mut cache: HashMap<(u64, u32, u32, u32), u32> = HashMap::default();
    for &p in points.iter() {
        while ri < rows.len() && rows[ri].1 <= p {
            ri += 1;
        }
        while ni + 1 < inner.len() && inner[ni + 1].0 <= p {
            ni += 1;
        }
        let row = rows.get(ri).filter(|r| r.0 <= p);
        let node = inner.get(ni).filter(|x| x.0 <= p).map_or(NONE, |x| x.1);
        let loc = match (row, node) {
            (None, NONE) => NONE,
            (row, node) => {
                let (file_idx, line, col) = row.map_or((u64::MAX, 0, 0), |r| (r.2, r.3, r.4));
                *cache.entry((file_idx, line, col, node)).or_insert_with(|| {
                    let file = if file_idx == u64::MAX {
                        NONE
                    } else {
                        files.path(dwarf, &unit, file_idx, &mut b)
                    };
                    let (func, parent) = if node == NONE {
                        (NONE, NONE)
                    } else {
                        (nodes[node as usize].name, callsite[node as usize])
                    };
                    b.intern_loc(Loc {
                        file,
                        line,
                        col,
                        func,
                        parent,
                    })
                })
            }
        };
        b.push_segment(p, loc);
    }
    Ok(UnitTable {
        table: b.finish(),
        skipped,
    })
}

/// A node's name: its own `DW_AT_name`, else through its abstract origin/specification.
fn node_name<'a>(
    dwarf: &Dwarf<'a>,
    unit: &Unit<'a>,
    name_attr: Option<AttributeValue<R<'a>>>,
    origin: Option<AttributeValue<R<'a>>>,
    names: &mut HashMap<UnitOffset, u32>,
    b: &mut TableBuilder,
) -> u32 {
    match name_attr {
        Some(v) => match dwarf.attr_string(unit, v) {
            Ok(s) => b.intern_str(s.slice()),
            Err(_) => NONE,
        },
        None => match origin {
            Some(v) => origin_name(dwarf, unit, v, names, b),
            None => NONE,
        },
    }
}

/// The name of the DIE an abstract_origin/specification points to (followed a few levels).
fn origin_name<'a>(
    dwarf: &Dwarf<'a>,
    unit: &Unit<'a>,
    mut v: AttributeValue<R<'a>>,
    memo: &mut HashMap<UnitOffset, u32>,
    b: &mut TableBuilder,
) -> u32 {
    let mut first: Option<UnitOffset> = None;
    for _ in 0..8 {
        let AttributeValue::UnitRef(off) = v else {
            // Cross-unit references (LTO) are not followed: the symbol table names it.
            return NONE;
        };
        if let Some(&n) = memo.get(&off) {
            return n;
        }
        first.get_or_insert(off);
        let Ok(entry) = unit.entry(off) else {
            return NONE;
        };
        if let Ok(Some(name)) = entry.attr_value(gimli::DW_AT_name) {
            let n = match dwarf.attr_string(unit, name) {
                Ok(s) => b.intern_str(s.slice()),
                Err(_) => NONE,
            };
            if let Some(f) = first {
                memo.insert(f, n);
            }
            return n;
        }
        match entry
            .attr_value(gimli::DW_AT_abstract_origin)
            .ok()
            .flatten()
            .or_else(|| entry.attr_value(gimli::DW_AT_specification).ok().flatten())
        {
            Some(next) => v = next,
            None => return NONE,
        }
    }
    NONE
}

/// Full paths of line-program files, computed once per file index.
#[derive(Default)]
struct FileNames {
    memo: HashMap<u64, u32>,
}

impl FileNames {
    fn path(
        &mut self,
        dwarf: &Dwarf<'_>,
        unit: &Unit<'_>,
        index: u64,
        b: &mut TableBuilder,
    ) -> u32 {
        if let Some(&p) = self.memo.get(&index) {
            return p;
        }
        let p = match file_path(dwarf, unit, index) {
            Some(s) => b.intern_str(s.as_bytes()),
            None => NONE,
        };
        self.memo.insert(index, p);
        p
    }
}

/// The path of a line-program file as llvm-symbolizer prints it: the compilation directory,
/// the include directory and the name joined, unless one of them is absolute.
fn file_path(dwarf: &Dwarf<'_>, unit: &Unit<'_>, index: u64) -> Option<String> {
    let program = unit.line_program.as_ref()?;
    let header = program.header();
    let file = header.file(index)?;
    let name = dwarf.attr_string(unit, file.path_name()).ok()?;
    let name = String::from_utf8_lossy(name.slice()).into_owned();
    if name.starts_with('/') {
        return Some(name);
    }
    let mut path = String::new();
    let dir = file
        .directory(header)
        .and_then(|d| dwarf.attr_string(unit, d).ok())
        .map(|d| String::from_utf8_lossy(d.slice()).into_owned())
        .unwrap_or_default();
    if !dir.starts_with('/')
        && let Some(comp) = &unit.comp_dir
    {
        path.push_str(&String::from_utf8_lossy(comp.slice()));
    }
    for part in [dir.as_str(), name.as_str()] {
        if part.is_empty() {
            continue;
        }
        if !path.is_empty() && !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(part);
    }
    Some(path)
}
