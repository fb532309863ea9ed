//! The lockless printk ring buffer (Linux 5.10+), read by VMCOREINFO offsets alone.
//!
//! `SYMBOL(prb)` is the address of a pointer to `struct printk_ringbuffer`: a descriptor
//! ring (`count_bits`, `descs`, `infos`, `head_id`, `tail_id`) and a text data ring
//! (`size_bits`, `data`, `head_lpos`, `tail_lpos`). Each descriptor's `state_var` holds the
//! state in its top 2 bits (reserved 0, committed 1, finalized 2, reusable 3) and the id in
//! the rest; only committed and finalized records whose id matches are read. A data block
//! is `[unsigned long id][text]`; one that would cross the end of the ring is stored whole
//! at index 0 (its id too, which the reader skips). Level and facility are bitfields that
//! VMCOREINFO does not describe: on little-endian GCC layouts the facility is the byte after
//! `text_len` and the byte after it holds `flags:5, level:3`; they are read only when
//! `caller_id` follows them as in that layout.

use crate::Error;
use crate::log::{Caller, KernelLog, Record, escape_text};
use crate::memory::{KernelMemory, MemError};
use crate::vmcoreinfo::VmcoreInfo;

const STATE_SHIFT: u32 = 62;
const ID_MASK: u64 = (1 << STATE_SHIFT) - 1;
const COMMITTED: u64 = 1;
const FINALIZED: u64 = 2;
const RESERVED: u64 = 0;
/// Largest ring we accept: 2^30 descriptors, 2^34 text bytes (the kernel caps log_buf_len
/// far below). Beyond it the header is garbage.
const MAX_COUNT_BITS: u32 = 30;
const MAX_SIZE_BITS: u32 = 34;

/// Offsets and sizes of the ring structures, all from VMCOREINFO.
#[derive(Debug)]
struct Layout {
    prb_size: u64,
    desc_ring: u64,
    text_ring: u64,
    count_bits: u64,
    descs: u64,
    infos: u64,
    head_id: u64,
    tail_id: u64,
    desc_size: u64,
    state_var: u64,
    text_blk_lpos: u64,
    lpos_begin: u64,
    lpos_next: u64,
    info_size: u64,
    seq: u64,
    ts_nsec: u64,
    text_len: u64,
    caller_id: Option<u64>,
    size_bits: u64,
    data: u64,
    counter: u64,
}

impl Layout {
    fn from(info: &VmcoreInfo) -> Result<Layout, Error> {
        if info.offset("prb_desc.info").is_some() {
            return Err(Error::Unsupported(
                "pre-release 5.10 printk ring layout (info embedded in prb_desc)".into(),
            ));
        }
        let mut missing = Vec::new();
        let mut off = |key: &str| {
            info.offset(key).unwrap_or_else(|| {
                missing.push(format!("OFFSET({key})"));
                0
            })
        };
        let layout = Layout {
            prb_size: 0,
            desc_ring: off("printk_ringbuffer.desc_ring"),
            text_ring: off("printk_ringbuffer.text_data_ring"),
            count_bits: off("prb_desc_ring.count_bits"),
            descs: off("prb_desc_ring.descs"),
            infos: off("prb_desc_ring.infos"),
            head_id: off("prb_desc_ring.head_id"),
            tail_id: off("prb_desc_ring.tail_id"),
            desc_size: 0,
            state_var: off("prb_desc.state_var"),
            text_blk_lpos: off("prb_desc.text_blk_lpos"),
            lpos_begin: off("prb_data_blk_lpos.begin"),
            lpos_next: off("prb_data_blk_lpos.next"),
            info_size: 0,
            seq: off("printk_info.seq"),
            ts_nsec: off("printk_info.ts_nsec"),
            text_len: off("printk_info.text_len"),
            caller_id: info.offset("printk_info.caller_id"),
            size_bits: off("prb_data_ring.size_bits"),
            data: off("prb_data_ring.data"),
            counter: info.offset("atomic_long_t.counter").unwrap_or(0),
        };
        let mut size = |key: &str| {
            info.size(key).unwrap_or_else(|| {
                missing.push(format!("SIZE({key})"));
                0
            })
        };
        let layout = Layout {
            prb_size: size("printk_ringbuffer"),
            desc_size: size("prb_desc"),
            info_size: size("printk_info"),
            ..layout
        };
        if !missing.is_empty() {
            return Err(Error::Unsupported(format!(
                "VMCOREINFO describes the printk ring buffer only partly: missing {}",
                missing.join(", ")
            )));
        }
        let offsets = [
            layout.desc_ring,
            layout.text_ring,
            layout.count_bits,
            layout.descs,
            layout.infos,
            layout.head_id,
            layout.tail_id,
            layout.state_var,
            layout.text_blk_lpos,
            layout.lpos_begin,
            layout.lpos_next,
            layout.seq,
            layout.ts_nsec,
            layout.text_len,
            layout.caller_id.unwrap_or(0),
            layout.size_bits,
            layout.data,
            layout.counter,
        ];
        if let Some(bad) = offsets.iter().find(|&&o| o > 4096) {
            return Err(Error::Malformed(format!(
                "implausible printk offset {bad} in VMCOREINFO"
            )));
        }
        if layout.desc_size < 24
            || layout.info_size < 24
            || layout.prb_size > 4096
            || layout.desc_size > 4096
            || layout.info_size > 4096
        {
            return Err(Error::Malformed(format!(
                "implausible printk sizes in VMCOREINFO: prb_desc {}, printk_info {}, printk_ringbuffer {}",
                layout.desc_size, layout.info_size, layout.prb_size
            )));
        }
        Ok(layout)
    }
}

fn field(bytes: &[u8], at: u64, len: usize) -> Result<&[u8], Error> {
    let at = usize::try_from(at).unwrap_or(usize::MAX);
    at.checked_add(len)
        .and_then(|end| bytes.get(at..end))
        .ok_or_else(|| {
            Error::Malformed(format!(
                "printk field at offset {at} lies outside its structure"
            ))
        })
}

fn u64_in(bytes: &[u8], at: u64) -> Result<u64, Error> {
    Ok(u64::from_le_bytes(
        field(bytes, at, 8)?.try_into().unwrap_or_default(),
    ))
}

fn u32_in(bytes: &[u8], at: u64) -> Result<u32, Error> {
    Ok(u32::from_le_bytes(
        field(bytes, at, 4)?.try_into().unwrap_or_default(),
    ))
}

/// Counts lost records by reason, for one warning per reason.
#[derive(Debug, Default)]
struct Losses {
    items: Vec<(String, u64)>,
}

impl Losses {
    fn add(&mut self, what: String) {
        match self.items.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => self.items.push((what, 1)),
        }
    }

    fn into_warnings(self, warnings: &mut Vec<String>) {
        for (what, n) in self.items {
            let records = if n == 1 { "record" } else { "records" };
            warnings.push(format!("{n} {records} lost: {what}"));
        }
    }
}

/// Reads every committed or finalized record of the ring `SYMBOL(prb)` points to.
pub(crate) fn read(mem: &dyn KernelMemory, info: &VmcoreInfo) -> Result<KernelLog, Error> {
    let layout = Layout::from(info)?;
    let prb_sym = info
        .symbol("prb")
        .ok_or_else(|| Error::Unsupported("VMCOREINFO lacks SYMBOL(prb)".into()))?;
    let unreadable = |what: &str, e: MemError| {
        Error::Malformed(format!("the printk {what} is not readable: {e}"))
    };
    let prb = mem
        .read_u64(prb_sym)
        .map_err(|e| unreadable("ring buffer pointer (SYMBOL(prb))", e))?;
    let mut rb = vec![0u8; layout.prb_size as usize];
    mem.read(prb, &mut rb)
        .map_err(|e| unreadable("ring buffer header", e))?;

    let dr = layout.desc_ring;
    let count_bits = u32_in(&rb, dr + layout.count_bits)?;
    let descs = u64_in(&rb, dr + layout.descs)?;
    let infos = u64_in(&rb, dr + layout.infos)?;
    let head_id = u64_in(&rb, dr + layout.head_id + layout.counter)? & ID_MASK;
    let tail_id = u64_in(&rb, dr + layout.tail_id + layout.counter)? & ID_MASK;
    let tr = layout.text_ring;
    let size_bits = u32_in(&rb, tr + layout.size_bits)?;
    let data = u64_in(&rb, tr + layout.data)?;
    if count_bits > MAX_COUNT_BITS || !(3..=MAX_SIZE_BITS).contains(&size_bits) {
        return Err(Error::Malformed(format!(
            "printk ring header is garbage: count_bits {count_bits}, size_bits {size_bits}"
        )));
    }
    let count = 1u64 << count_bits;
    let ring_size = 1u64 << size_bits;

    let mut log = KernelLog::default();
    let mut losses = Losses::default();
    let mut span = (head_id.wrapping_sub(tail_id) & ID_MASK) + 1;
    if span > count {
        log.warnings.push(format!(
            "printk descriptor ring tail {tail_id:#x} and head {head_id:#x} are {span} ids apart in a ring of {count}: reading the last {count}"
        ));
        span = count;
    }
    let first = head_id.wrapping_sub(span - 1) & ID_MASK;
    let mut desc = vec![0u8; layout.desc_size as usize];
    let mut rec_info = vec![0u8; layout.info_size as usize];
    let mut last_seq: Option<u64> = None;
    let mut reserved = 0u64;
    for k in 0..span {
        let id = first.wrapping_add(k) & ID_MASK;
        let slot = id & (count - 1);
        if let Err(e) = mem.read(descs.wrapping_add(slot * layout.desc_size), &mut desc) {
            losses.add(format!("descriptor unreadable: {e}"));
            continue;
        }
        let state_var = u64_in(&desc, layout.state_var + layout.counter)?;
        let state = state_var >> STATE_SHIFT;
        if state_var & ID_MASK != id {
            // Recycled for a newer id, or never written: not this record.
            continue;
        }
        if state == RESERVED {
            reserved += 1;
            continue;
        }
        if state != COMMITTED && state != FINALIZED {
            continue;
        }
        if let Err(e) = mem.read(infos.wrapping_add(slot * layout.info_size), &mut rec_info) {
            losses.add(format!("record metadata unreadable: {e}"));
            continue;
        }
        let lpos = layout.text_blk_lpos;
        let begin = u64_in(&desc, lpos + layout.lpos_begin)?;
        let next = u64_in(&desc, lpos + layout.lpos_next)?;
        let seq = u64_in(&rec_info, layout.seq)?;
        let ts_nsec = u64_in(&rec_info, layout.ts_nsec)?;
        let text_len = u64::from(u16::from_le_bytes(
            field(&rec_info, layout.text_len, 2)?
                .try_into()
                .unwrap_or_default(),
        ));
        let caller_raw = layout
            .caller_id
            .map(|at| u32_in(&rec_info, at))
            .transpose()?;
        let (facility, level) = match layout.caller_id {
            Some(c) if c == layout.text_len + 4 => {
                let b = field(&rec_info, layout.text_len + 2, 2)?;
                (Some(b[0]), Some(b[1] >> 5))
            }
            _ => (None, None),
        };
        let text = match block(begin, next, size_bits, ring_size) {
            Block::DataLess { lost } => {
                if lost {
                    losses.add("the kernel failed to store its text (FAILED_LPOS)".into());
                }
                Vec::new()
            }
            Block::Invalid => {
                losses.add(format!(
                    "text block position {begin:#x}..{next:#x} is invalid"
                ));
                continue;
            }
            Block::At { index, len } => {
                let avail = len - 8;
                let n = text_len.min(avail) as usize;
                let mut bytes = vec![0u8; n];
                let mut block_id = [0u8; 8];
                let at = data.wrapping_add(index);
                if let Err(e) = mem
                    .read(at, &mut block_id)
                    .and_then(|()| mem.read(at.wrapping_add(8), &mut bytes))
                {
                    losses.add(format!("text unreadable: {e}"));
                    continue;
                }
                if u64::from_le_bytes(block_id) & ID_MASK != id {
                    losses.add("its text block holds another record (overwritten)".into());
                    continue;
                }
                bytes
            }
        };
        if let Some(prev) = last_seq
            && seq <= prev
        {
            log.warnings.push(format!(
                "printk sequence goes backwards: {seq} after {prev}"
            ));
        }
        last_seq = Some(seq);
        log.records.push(Record {
            seq,
            ts_nsec,
            level,
            facility,
            caller: caller_raw.map(Caller::from_raw),
            text: escape_text(&text),
        });
    }
    if reserved > 0 {
        log.warnings.push(format!(
            "{reserved} record(s) were still being written at the crash and have no text yet"
        ));
    }
    losses.into_warnings(&mut log.warnings);
    Ok(log)
}

/// Where a record's text is in the data ring.
#[derive(Debug, PartialEq, Eq)]
enum Block {
    /// No data block: legitimately empty (`NO_LPOS`) or `lost` (`FAILED_LPOS`).
    DataLess { lost: bool },
    /// A block of `len` bytes (id included, `len >= 8`) at ring index `index`.
    At { index: u64, len: u64 },
    /// Positions that no writer produces.
    Invalid,
}

fn block(begin: u64, next: u64, size_bits: u32, size: u64) -> Block {
    if begin & 1 == 1 && next & 1 == 1 {
        return Block::DataLess {
            lost: begin == 1 && next == 1,
        };
    }
    if !begin.is_multiple_of(8) || !next.is_multiple_of(8) {
        return Block::Invalid;
    }
    let wraps = |lpos: u64| lpos >> size_bits;
    let index = |lpos: u64| lpos & (size - 1);
    let (at, len) = if wraps(begin) == wraps(next) {
        (index(begin), next.wrapping_sub(begin))
    } else if wraps(begin.wrapping_add(size)) == wraps(next) {
        if index(next) == 0 {
            // Exact fit (the writer rule since late 2025): the block ends at the ring's end.
            (index(begin), next.wrapping_sub(begin))
        } else {
            // Wrapped: the whole block, id included, was written again at index 0.
            (0, index(next))
        }
    } else {
        return Block::Invalid;
    };
    if len < 8 || len > size || at + len > size {
        return Block::Invalid;
    }
    Block::At { index: at, len }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checks block location for a plain block, a wrapped block, an exact fit and bad positions.
    #[test]
    fn block_positions() {
        let bits = 8;
        let size = 256;
        assert_eq!(
            block(256 + 16, 256 + 48, bits, size),
            Block::At { index: 16, len: 32 }
        );
        assert_eq!(
            block(256 + 240, 512 + 24, bits, size),
            Block::At { index: 0, len: 24 }
        );
        assert_eq!(
            block(256 + 224, 512, bits, size),
            Block::At {
                index: 224,
                len: 32
            }
        );
        assert_eq!(block(1, 1, bits, size), Block::DataLess { lost: true });
        assert_eq!(block(3, 3, bits, size), Block::DataLess { lost: false });
        assert_eq!(block(5, 16, bits, size), Block::Invalid);
        assert_eq!(block(16, 16, bits, size), Block::Invalid);
        assert_eq!(block(0, 1024, bits, size), Block::Invalid);
        // Free-running positions overflow on purpose: begin near 2^64 wraps to next near 0.
        assert_eq!(
            block(0u64.wrapping_sub(16), 8, bits, size),
            Block::At { index: 0, len: 8 }
        );
    }
}
