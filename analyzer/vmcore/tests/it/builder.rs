//! Test-support writer of synthetic vmcores from a described layout: a small x86_64 machine
//! (256 KiB of RAM, a KASLR'd kernel image with a negative phys_base, a randomized direct
//! map reached through 4-level page tables), a printk ring filled by emulating the kernel's
//! writer, and the dump formats around it. It shares no code with the reader under test;
//! the layouts come from the kernel and makedumpfile headers (research note B2-B6).

use std::io::Write;

pub const PAGE: usize = 4096;
pub const RAM: usize = 0x40000;
const START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
pub const KIMG_PA: u64 = 0x10000;
const KIMG_SIZE: u64 = 0x10000;
pub const KIMG_V: u64 = 0xffff_ffff_ab00_0000;
const PAGE_OFFSET: u64 = 0xffff_9a00_0000_0000;
const PGD_PA: u64 = KIMG_PA + 0x8000;
/// Where the ring (or legacy buffer) lives, in the direct map.
const TEXT_PA: u64 = 0x21000;
const DESC_PA: u64 = 0x20000;
const INFO_PA: u64 = 0x22000;
const ID_MASK: u64 = (1 << 62) - 1;

fn phys_base() -> u64 {
    KIMG_PA.wrapping_sub(KIMG_V - START_KERNEL_MAP)
}

fn kva(pa: u64) -> u64 {
    KIMG_V + (pa - KIMG_PA)
}

fn dva(pa: u64) -> u64 {
    PAGE_OFFSET + pa
}

/// One message to print.
#[derive(Debug, Clone)]
pub struct Msg {
    pub ts_nsec: u64,
    pub level: u8,
    pub caller: u32,
    pub text: Vec<u8>,
}

/// What the reader should print: the records still in the buffer, oldest first.
#[derive(Debug, Clone)]
pub struct Expected {
    pub seq: u64,
    pub msg: Msg,
    /// Where the writer put the text: the ring's wrap and exact-fit cases.
    pub placement: Placement,
}

/// Where a record's text block went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Plain,
    /// It would have crossed the end: stored whole at index 0.
    Wrapped,
    /// It ends exactly at the ring's end and stayed there (late-2025 writer rule).
    ExactFit,
}

/// Deterministic messages: varied lengths, multi-line records, an empty one, non-UTF-8
/// bytes, thread and CPU callers, all levels.
pub fn messages(n: usize, seed: u64) -> Vec<Msg> {
    let mut x = seed;
    let mut rnd = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let mut ts = 0u64;
    (0..n)
        .map(|i| {
            ts += rnd() % 3_000_000_000;
            let len = [3usize, 11, 40, 77, 120, 200][(rnd() % 6) as usize];
            let mut text = format!("msg {i} ").into_bytes();
            text.extend((0..len).map(|k| b'a' + ((i + k) % 26) as u8));
            if i % 17 == 3 {
                text.extend_from_slice(b"\n  continuation line");
            }
            if i % 23 == 7 {
                text.extend_from_slice(b" bad\xff\x01byte");
            }
            if i % 41 == 9 {
                text.clear();
            }
            let caller = if i % 5 == 0 {
                0x8000_0000 | (i as u32 % 4)
            } else {
                100 + i as u32
            };
            Msg {
                ts_nsec: ts,
                level: (i % 8) as u8,
                caller,
                text,
            }
        })
        .collect()
}

/// The expected `crash log` text of records.
pub fn dmesg_text(records: &[Expected]) -> String {
    let mut out = String::new();
    for r in records {
        let prefix = format!(
            "[{:5}.{:06}] ",
            r.msg.ts_nsec / 1_000_000_000,
            r.msg.ts_nsec % 1_000_000_000 / 1000
        );
        let mut text = String::new();
        for c in String::from_utf8_lossy(&r.msg.text).chars() {
            match c {
                '\u{fffd}' => text.push_str("\\xff"),
                '\u{1}' => text.push_str("\\x01"),
                c => text.push(c),
            }
        }
        let mut lines = text.split('\n');
        out.push_str(&prefix);
        out.push_str(lines.next().unwrap_or_default());
        out.push('\n');
        for l in lines {
            out.push_str(&" ".repeat(prefix.len()));
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// A machine's physical memory and VMCOREINFO.
pub struct Machine {
    pub ram: Vec<u8>,
    pub vmcoreinfo: String,
}

impl Machine {
    fn new() -> Machine {
        let mut m = Machine {
            ram: vec![0u8; RAM],
            vmcoreinfo: String::new(),
        };
        // Page tables: PAGE_OFFSET.. mapped with 4 KiB pages over all of RAM.
        let (pdpt, pd, pt) = (PGD_PA + 0x1000, PGD_PA + 0x2000, PGD_PA + 0x3000);
        let idx = |va: u64, shift: u32| (va >> shift) & 511;
        m.put_u64(PGD_PA + 8 * idx(PAGE_OFFSET, 39), pdpt | 0x63);
        m.put_u64(pdpt + 8 * idx(PAGE_OFFSET, 30), pd | 0x63);
        m.put_u64(pd + 8 * idx(PAGE_OFFSET, 21), pt | 0x63);
        for i in 0..(RAM / PAGE) as u64 {
            m.put_u64(pt + 8 * i, (i * PAGE as u64) | 0x63);
        }
        m
    }

    fn put(&mut self, pa: u64, bytes: &[u8]) {
        self.ram[pa as usize..pa as usize + bytes.len()].copy_from_slice(bytes);
    }

    fn put_u64(&mut self, pa: u64, v: u64) {
        self.put(pa, &v.to_le_bytes());
    }

    fn common_info(&self) -> String {
        format!(
            "OSRELEASE=6.1.0-fixture\nBUILD-ID={}\nPAGESIZE=4096\nNUMBER(phys_base)={}\n\
             SYMBOL(init_top_pgt)={:x}\nNUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET={:x}\n\
             NUMBER(sme_mask)=0\nCRASHTIME=1796414413\n",
            "6a2b4ac77585b8cf102cba771300e573c8489b69",
            phys_base() as i64,
            kva(PGD_PA),
            KIMG_V - 0xffff_ffff_8100_0000
        )
    }
}

/// Ring options.
#[derive(Debug, Clone, Copy)]
pub struct Ring {
    pub size_bits: u32,
    pub count_bits: u32,
    /// The writer rule since late 2025: a block ending exactly at the ring's end stays there.
    pub exact_fit_stays: bool,
}

/// A machine whose lockless printk ring holds `msgs`, as the kernel's writer leaves it.
pub fn lockless(msgs: &[Msg], ring: Ring) -> (Machine, Vec<Expected>) {
    let mut m = Machine::new();
    let size = 1u64 << ring.size_bits;
    let count = 1u64 << ring.count_bits;
    let mut text = vec![0u8; size as usize];
    let mut descs = vec![0u8; count as usize * 24];
    let mut infos = vec![0u8; count as usize * 88];
    let mut head_lpos = 0u64.wrapping_sub(size);
    let mut head_id = 0u64.wrapping_sub(count + 1) & ID_MASK;
    // (id, begin, next, seq)
    let mut written: Vec<(u64, u64, u64, u64)> = Vec::new();
    let mut placements = Vec::new();
    for (seq, msg) in msgs.iter().enumerate() {
        let id = (head_id + 1) & ID_MASK;
        let slot = (id & (count - 1)) as usize;
        let (begin, next) = if msg.text.is_empty() {
            placements.push(Placement::Plain);
            (3, 3) // NO_LPOS: data-less
        } else {
            let blk = ((msg.text.len() as u64 + 8) + 7) & !7;
            let begin = head_lpos;
            let mut next = begin.wrapping_add(blk);
            let crosses = begin >> ring.size_bits != next >> ring.size_bits;
            let exact = next & (size - 1) == 0;
            let wrapped = crosses && !(exact && ring.exact_fit_stays);
            placements.push(if wrapped {
                Placement::Wrapped
            } else if crosses {
                Placement::ExactFit
            } else {
                Placement::Plain
            });
            if wrapped {
                next = (next & !(size - 1)).wrapping_add(blk);
            }
            let bi = (begin & (size - 1)) as usize;
            text[bi..bi + 8].copy_from_slice(&id.to_le_bytes());
            let di = if wrapped { 0 } else { bi };
            text[di..di + 8].copy_from_slice(&id.to_le_bytes());
            text[di + 8..di + 8 + msg.text.len()].copy_from_slice(&msg.text);
            head_lpos = next;
            (begin, next)
        };
        descs[slot * 24..slot * 24 + 24].copy_from_slice(
            &[(2u64 << 62) | id, begin, next]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
        let info = &mut infos[slot * 88..slot * 88 + 88];
        info.fill(0);
        info[0..8].copy_from_slice(&(seq as u64).to_le_bytes());
        info[8..16].copy_from_slice(&msg.ts_nsec.to_le_bytes());
        info[16..18].copy_from_slice(&(msg.text.len() as u16).to_le_bytes());
        info[18] = 0;
        info[19] = (msg.level << 5) | 2;
        info[20..24].copy_from_slice(&msg.caller.to_le_bytes());
        written.push((id, begin, next, seq as u64));
        head_id = id;
    }
    // Live: within the last `count` ids, and text not yet overwritten.
    let live: Vec<(u64, u64, u64, u64)> = written
        .iter()
        .copied()
        .filter(|&(id, begin, _, _)| {
            (head_id.wrapping_sub(id) & ID_MASK) < count
                && (begin == 3 || head_lpos.wrapping_sub(begin) <= size)
        })
        .collect();
    // A data-less record before the oldest live text record stays readable; keep a suffix.
    let first_text = live.iter().position(|r| r.1 != 3).unwrap_or(0);
    let live = live[first_text..].to_vec();
    let tail_id = live.first().map_or(head_id, |r| r.0);
    let tail_lpos = live.iter().find(|r| r.1 != 3).map_or(head_lpos, |r| r.1);
    for &(id, _, _, _) in &written {
        let slot = (id & (count - 1)) as usize;
        let sv = u64::from_le_bytes(descs[slot * 24..slot * 24 + 8].try_into().unwrap());
        if sv & ID_MASK == id && !live.iter().any(|r| r.0 == id) {
            descs[slot * 24..slot * 24 + 8].copy_from_slice(&((3u64 << 62) | id).to_le_bytes());
        }
    }
    // The newest record is committed, not yet finalized, as at a crash.
    let slot = (head_id & (count - 1)) as usize;
    descs[slot * 24..slot * 24 + 8].copy_from_slice(&((1u64 << 62) | head_id).to_le_bytes());
    m.put(TEXT_PA, &text);
    m.put(DESC_PA, &descs);
    m.put(INFO_PA, &infos);
    let prb_ptr = KIMG_PA + 0x1000;
    let prb = KIMG_PA + 0x1100;
    m.put_u64(prb_ptr, kva(prb));
    let mut rb = vec![0u8; 88];
    rb[0..4].copy_from_slice(&ring.count_bits.to_le_bytes());
    for (at, v) in [
        (8, dva(DESC_PA)),
        (16, dva(INFO_PA)),
        (24, head_id),
        (32, tail_id),
        (40, head_id),
    ] {
        rb[at..at + 8].copy_from_slice(&u64::to_le_bytes(v));
    }
    rb[48..52].copy_from_slice(&ring.size_bits.to_le_bytes());
    for (at, v) in [(56, dva(TEXT_PA)), (64, head_lpos), (72, tail_lpos)] {
        rb[at..at + 8].copy_from_slice(&u64::to_le_bytes(v));
    }
    m.put(prb, &rb);
    let expected = live
        .iter()
        .map(|r| Expected {
            seq: r.3,
            msg: msgs[r.3 as usize].clone(),
            placement: placements[r.3 as usize],
        })
        .collect();
    m.vmcoreinfo = m.common_info()
        + &format!(
            "SYMBOL(prb)={:x}\nSYMBOL(printk_rb_static)={:x}\n\
SIZE(printk_ringbuffer)=88\nOFFSET(printk_ringbuffer.desc_ring)=0\nOFFSET(printk_ringbuffer.text_data_ring)=48\n\
OFFSET(printk_ringbuffer.fail)=80\nSIZE(prb_desc_ring)=48\nOFFSET(prb_desc_ring.count_bits)=0\n\
OFFSET(prb_desc_ring.descs)=8\nOFFSET(prb_desc_ring.infos)=16\nOFFSET(prb_desc_ring.head_id)=24\n\
OFFSET(prb_desc_ring.tail_id)=32\nSIZE(prb_desc)=24\nOFFSET(prb_desc.state_var)=0\n\
OFFSET(prb_desc.text_blk_lpos)=8\nSIZE(prb_data_blk_lpos)=16\nOFFSET(prb_data_blk_lpos.begin)=0\n\
OFFSET(prb_data_blk_lpos.next)=8\nSIZE(printk_info)=88\nOFFSET(printk_info.seq)=0\n\
OFFSET(printk_info.ts_nsec)=8\nOFFSET(printk_info.text_len)=16\nOFFSET(printk_info.caller_id)=20\n\
OFFSET(printk_info.dev_info)=24\nSIZE(prb_data_ring)=32\nOFFSET(prb_data_ring.size_bits)=0\n\
OFFSET(prb_data_ring.data)=8\nOFFSET(prb_data_ring.head_lpos)=16\nOFFSET(prb_data_ring.tail_lpos)=24\n\
SIZE(atomic_long_t)=8\nOFFSET(atomic_long_t.counter)=0\n",
            kva(prb_ptr),
            kva(KIMG_PA + 0x2000)
        );
    (m, expected)
}

/// A machine with a legacy (3.5-5.9) structured `log_buf` of `buf_len` bytes holding `msgs`.
pub fn legacy(msgs: &[Msg], buf_len: usize) -> (Machine, Vec<Expected>) {
    const HDR: usize = 20; // ts u64, len u16, text_len u16, dict_len u16, fac u8, flags/level u8, caller u32
    let mut m = Machine::new();
    let mut buf = vec![0u8; buf_len];
    // (idx, len, seq) oldest first
    let mut recs: Vec<(usize, usize, u64)> = Vec::new();
    let mut next = 0usize;
    for (seq, msg) in msgs.iter().enumerate() {
        let dict: &[u8] = if seq % 4 == 0 {
            b"SUBSYSTEM=pci\0DEVICE=+pci:0000:00:01.0"
        } else {
            b""
        };
        let size = (HDR + msg.text.len() + dict.len() + 3) & !3;
        if next + size + HDR > buf_len {
            buf[next..next + HDR].fill(0); // len 0: wrap marker
            recs.retain(|&(i, _, _)| i < next);
            next = 0;
        }
        recs.retain(|&(i, l, _)| i + l <= next || i >= next + size + HDR);
        let rec = &mut buf[next..next + size];
        rec.fill(0);
        rec[0..8].copy_from_slice(&msg.ts_nsec.to_le_bytes());
        rec[8..10].copy_from_slice(&(size as u16).to_le_bytes());
        rec[10..12].copy_from_slice(&(msg.text.len() as u16).to_le_bytes());
        rec[12..14].copy_from_slice(&(dict.len() as u16).to_le_bytes());
        rec[14] = 0;
        rec[15] = (msg.level << 5) | 2;
        rec[16..20].copy_from_slice(&msg.caller.to_le_bytes());
        rec[HDR..HDR + msg.text.len()].copy_from_slice(&msg.text);
        rec[HDR + msg.text.len()..HDR + msg.text.len() + dict.len()].copy_from_slice(dict);
        recs.push((next, size, seq as u64));
        next += size;
    }
    // Order by position from the oldest: the kernel reads first..next, wrapping once.
    let first = recs.first().map_or(0, |r| r.0);
    m.put(TEXT_PA, &buf);
    let vars = KIMG_PA + 0x1000;
    m.put_u64(vars, dva(TEXT_PA));
    m.put(vars + 8, &(buf_len as u32).to_le_bytes());
    m.put(vars + 12, &(first as u32).to_le_bytes());
    m.put(vars + 16, &(next as u32).to_le_bytes());
    m.vmcoreinfo = m.common_info()
        + &format!(
            "SYMBOL(log_buf)={:x}\nSYMBOL(log_buf_len)={:x}\nSYMBOL(log_first_idx)={:x}\n\
SYMBOL(clear_idx)={:x}\nSYMBOL(log_next_idx)={:x}\nSIZE(printk_log)={HDR}\n\
OFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\nOFFSET(printk_log.text_len)=10\n\
OFFSET(printk_log.dict_len)=12\nOFFSET(printk_log.caller_id)=16\n",
            kva(vars),
            kva(vars + 8),
            kva(vars + 12),
            kva(vars + 12),
            kva(vars + 16)
        );
    // Records are numbered from 0 at the oldest one kept (the legacy seq is not exported).
    let expected = recs
        .iter()
        .enumerate()
        .map(|(i, r)| Expected {
            seq: i as u64,
            msg: msgs[r.2 as usize].clone(),
            placement: Placement::Plain,
        })
        .collect();
    (m, expected)
}

/// Runs of non-zero pages: (first pfn, page count).
fn runs(ram: &[u8]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (pfn, page) in ram.chunks(PAGE).enumerate() {
        if page.iter().all(|&b| b == 0) {
            continue;
        }
        match out.last_mut() {
            Some((start, n)) if *start + *n == pfn as u64 => *n += 1,
            _ => out.push((pfn as u64, 1)),
        }
    }
    out
}

/// How an ELF dump addresses its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfKind {
    /// `/proc/vmcore`: kernel image and direct map virtual addresses.
    Virtual,
    /// QEMU `dump-guest-memory` without paging: `p_vaddr == p_paddr`.
    Physical,
    /// Physical, plus this many empty program headers, counted through `PN_XNUM`.
    Xnum(usize),
}

fn note(name: &[u8], ty: u32, desc: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(name);
    out.push(0);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out.extend_from_slice(desc);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// An ELF64 core of the machine's non-zero pages.
pub fn elf(m: &Machine, kind: ElfKind) -> Vec<u8> {
    // (vaddr, paddr, pages)
    let mut loads: Vec<(u64, u64, u64)> = Vec::new();
    for (pfn, n) in runs(&m.ram) {
        let pa = pfn * PAGE as u64;
        let len = n * PAGE as u64;
        match kind {
            ElfKind::Virtual => {
                // The kernel image appears twice, as in /proc/vmcore.
                let (ks, ke) = (pa.max(KIMG_PA), (pa + len).min(KIMG_PA + KIMG_SIZE));
                if ks < ke {
                    loads.push((kva(ks), ks, (ke - ks) / PAGE as u64));
                }
                loads.push((dva(pa), pa, n));
            }
            _ => loads.push((pa, pa, n)),
        }
    }
    let notes = [
        note(b"CORE", 1, &[0u8; 336]),
        note(b"VMCOREINFO", 0, m.vmcoreinfo.as_bytes()),
    ]
    .concat();
    let extra = match kind {
        ElfKind::Xnum(n) => n,
        _ => 0,
    };
    let phnum = 1 + loads.len() + extra;
    let xnum = phnum >= 0xffff;
    let shoff = 64u64;
    let phoff = if xnum { 128 } else { 64 };
    let notes_off = phoff + phnum as u64 * 56;
    let mut data_off = (notes_off + notes.len() as u64).next_multiple_of(PAGE as u64);
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&4u16.to_le_bytes()); // ET_CORE
    out.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&phoff.to_le_bytes());
    out.extend_from_slice(&(if xnum { shoff } else { 0 }).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for v in [
        64u16,
        56,
        if xnum { 0xffff } else { phnum as u16 },
        64,
        u16::from(xnum),
        0,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    if xnum {
        // Section header 0 carries the real count in sh_info.
        let mut sh = [0u8; 64];
        sh[44..48].copy_from_slice(&(phnum as u32).to_le_bytes());
        out.extend_from_slice(&sh);
    }
    let ph = |out: &mut Vec<u8>, ty: u32, off: u64, va: u64, pa: u64, sz: u64| {
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&7u32.to_le_bytes());
        for v in [off, va, pa, sz, sz, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    };
    ph(&mut out, 4, notes_off, 0, 0, notes.len() as u64);
    let mut bodies = Vec::new();
    for &(va, pa, n) in &loads {
        let len = n * PAGE as u64;
        ph(&mut out, 1, data_off, va, pa, len);
        bodies.push((data_off, pa, len));
        data_off += len;
    }
    for i in 0..extra {
        // Empty segments far above RAM, as a paging dump's many small ones.
        ph(
            &mut out,
            1,
            data_off,
            0x1_0000_0000 + i as u64 * 0x1000,
            0x1_0000_0000 + i as u64 * 0x1000,
            0,
        );
    }
    out.extend_from_slice(&notes);
    for (off, pa, len) in bodies {
        out.resize(off as usize, 0);
        out.extend_from_slice(&m.ram[pa as usize..(pa + len) as usize]);
    }
    out
}

/// Page compression of a kdump-compressed dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    None,
    Zlib,
    Lzo,
    Snappy,
    Zstd,
}

impl Codec {
    fn flag(self) -> u32 {
        match self {
            Codec::None => 0,
            Codec::Zlib => 0x1,
            Codec::Lzo => 0x2,
            Codec::Snappy => 0x4,
            Codec::Zstd => 0x20,
        }
    }

    fn compress(self, page: &[u8]) -> Vec<u8> {
        match self {
            Codec::None => page.to_vec(),
            Codec::Zlib => {
                let mut z =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
                z.write_all(page).unwrap();
                z.finish().unwrap()
            }
            Codec::Lzo => lzokay_native::compress(page).unwrap(),
            Codec::Snappy => snap::raw::Encoder::new().compress_vec(page).unwrap(),
            Codec::Zstd => zstd_frame(page),
        }
    }
}

/// A zstd frame of raw and RLE blocks (no entropy coding: the crate has no encoder).
fn zstd_frame(page: &[u8]) -> Vec<u8> {
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x60];
    out.extend_from_slice(&((page.len() - 256) as u16).to_le_bytes());
    let halves: Vec<&[u8]> = page.chunks(page.len() / 2).collect();
    for (i, half) in halves.iter().enumerate() {
        let last = u32::from(i + 1 == halves.len());
        let rle = half.iter().all(|&b| b == half[0]);
        let header = last | (u32::from(rle) << 1) | ((half.len() as u32) << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        if rle {
            out.push(half[0]);
        } else {
            out.extend_from_slice(half);
        }
    }
    out
}

/// A kdump-compressed (`KDUMP   `, header version 6) dump with zero pages excluded
/// (dump level 1): only non-zero pages are in the 2nd bitmap.
pub fn kdump(m: &Machine, codec: Codec) -> Vec<u8> {
    let bs = PAGE;
    let max_mapnr = (RAM / PAGE) as u64;
    let mut out = vec![0u8; bs * 4];
    out[0..8].copy_from_slice(b"KDUMP   ");
    out[8..12].copy_from_slice(&6i32.to_le_bytes());
    out[12..17].copy_from_slice(b"Linux");
    out[12 + 2 * 65..12 + 2 * 65 + 15].copy_from_slice(b"6.1.0-fixture\0\0");
    out[12 + 4 * 65..12 + 4 * 65 + 6].copy_from_slice(b"x86_64");
    out[424..428].copy_from_slice(&codec.flag().to_le_bytes());
    out[428..432].copy_from_slice(&(bs as i32).to_le_bytes());
    out[432..436].copy_from_slice(&1i32.to_le_bytes()); // sub_hdr_size
    out[436..440].copy_from_slice(&2u32.to_le_bytes()); // bitmap_blocks
    out[440..444].copy_from_slice(&(max_mapnr as u32).to_le_bytes());
    out[460..464].copy_from_slice(&1i32.to_le_bytes());
    let sub = bs;
    let vi_off = sub + 128;
    out[sub..sub + 8].copy_from_slice(&phys_base().to_le_bytes());
    out[sub + 8..sub + 12].copy_from_slice(&1i32.to_le_bytes()); // dump_level
    out[sub + 32..sub + 40].copy_from_slice(&(vi_off as u64).to_le_bytes());
    out[sub + 40..sub + 48].copy_from_slice(&(m.vmcoreinfo.len() as u64).to_le_bytes());
    out[sub + 88..sub + 96].copy_from_slice(&max_mapnr.to_le_bytes());
    out[sub + 96..sub + 104].copy_from_slice(&max_mapnr.to_le_bytes());
    out[vi_off..vi_off + m.vmcoreinfo.len()].copy_from_slice(m.vmcoreinfo.as_bytes());
    let bitmap1 = 2 * bs;
    let bitmap2 = 3 * bs;
    let pages: Vec<u64> = runs(&m.ram).iter().flat_map(|&(p, n)| p..p + n).collect();
    for pfn in 0..max_mapnr {
        out[bitmap1 + (pfn / 8) as usize] |= 1 << (pfn % 8);
    }
    for &pfn in &pages {
        out[bitmap2 + (pfn / 8) as usize] |= 1 << (pfn % 8);
    }
    let desc_off = out.len();
    let mut data_off = desc_off + pages.len() * 24;
    let mut descs = Vec::new();
    let mut data = Vec::new();
    for &pfn in &pages {
        let page = &m.ram[pfn as usize * PAGE..(pfn as usize + 1) * PAGE];
        let packed = codec.compress(page);
        let (bytes, flags) = if packed.len() < PAGE {
            (packed, codec.flag())
        } else {
            (page.to_vec(), 0)
        };
        descs.extend_from_slice(&(data_off as u64).to_le_bytes());
        descs.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        descs.extend_from_slice(&flags.to_le_bytes());
        descs.extend_from_slice(&0u64.to_le_bytes());
        data_off += bytes.len();
        data.extend_from_slice(&bytes);
    }
    out.extend_from_slice(&descs);
    out.extend_from_slice(&data);
    out
}

/// makedumpfile's flattened stream of `plain`: a placeholder header first, the body in
/// 1000-byte records (not page aligned), the real header rewritten at the end.
pub fn flatten(plain: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 4096];
    out[..12].copy_from_slice(b"makedumpfile");
    out[16..24].copy_from_slice(&1i64.to_be_bytes());
    out[24..32].copy_from_slice(&1i64.to_be_bytes());
    let mut record = |off: usize, bytes: &[u8]| {
        out.extend_from_slice(&(off as i64).to_be_bytes());
        out.extend_from_slice(&(bytes.len() as i64).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    record(0, &vec![0xee; 4096]);
    let mut at = 4096;
    while at < plain.len() {
        let end = (at + 1000).min(plain.len());
        record(at, &plain[at..end]);
        at = end;
    }
    record(0, &plain[..4096.min(plain.len())]);
    out.extend_from_slice(&(-1i64).to_be_bytes());
    out.extend_from_slice(&0i64.to_be_bytes());
    out
}
