//! `make-demo-vmcore LOG OUT [--release R] [--build-id HEX] [--crashtime SECS] [--hostname H] [--flat]`:
//! writes the crashsift demo's vmcore (fixtures/demo/build.sh), a kdump-compressed dump with
//! zlib pages whose printk ring holds the records of LOG, then reads it back with this crate
//! and fails unless every record comes out as it went in.
//!
//! LOG has one record per line as `<level>[secs.usecs][Tpid] text` (`[Ccpu]` for a CPU
//! caller). The machine, page tables and dump writer are the test-support builder's
//! (`tests/it/builder.rs`); its ring (4 KiB of text, 128 descriptors) is too small for a
//! whole boot log, so this program writes a bigger ring (32 KiB, 512 descriptors, the
//! kernel's 32-bytes-per-record ratio) into free pages of the same machine and points the
//! `printk_ringbuffer` at it. The ring is filled from empty as the kernel's writer leaves it
//! before its first wrap: every record finalized but the newest, which is committed.

#[allow(
    dead_code,
    clippy::unwrap_used,
    reason = "the test-support builder, shared with the tests; this program uses part of it"
)]
#[path = "../tests/it/builder.rs"]
mod builder;

use clap::Parser;
use std::path::PathBuf;

/// Errors are messages: this program runs from a build script and only reports them.
type Result<T> = std::result::Result<T, String>;

/// Returns the message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Adds context to any displayable error.
trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T> {
        self.ok_or_else(|| what.to_owned())
    }
}

#[derive(Debug, Parser)]
struct Args {
    /// The records: `<level>[secs.usecs][Tpid] text` per line.
    log: PathBuf,
    /// Where to write the dump.
    out: PathBuf,
    /// VMCOREINFO OSRELEASE and the dump header's utsname release.
    #[arg(long, default_value = "6.1.0-crashsift-demo")]
    release: String,
    /// VMCOREINFO BUILD-ID (the vmlinux's GNU build id, hex).
    #[arg(long)]
    build_id: Option<String>,
    /// VMCOREINFO CRASHTIME and the dump header's time stamp, Unix seconds.
    #[arg(long, default_value_t = 1_796_385_600)]
    crashtime: u64,
    /// The dump header's utsname nodename.
    #[arg(long, default_value = "demo")]
    hostname: String,
    /// Write makedumpfile's flattened stream (`-F`, what Debian's kdump-tools writes).
    #[arg(long)]
    flat: bool,
}

/// Free physical pages of the builder's 256 KiB machine (its kernel image ends at 0x20000,
/// its own ring at 0x24c00) that the bigger ring goes to.
const TEXT_PA: u64 = 0x28000;
const DESC_PA: u64 = 0x30000;
const INFO_PA: u64 = 0x33000;
const SIZE_BITS: u32 = 15;
const COUNT_BITS: u32 = 9;
const ID_MASK: u64 = (1 << 62) - 1;
/// Byte offsets in `struct printk_ringbuffer` (x86_64, Linux 5.10+), as the builder's
/// VMCOREINFO states them.
const RB_COUNT_BITS: usize = 0;
const RB_DESCS: usize = 8;
const RB_INFOS: usize = 16;
const RB_HEAD_ID: usize = 24;
const RB_TAIL_ID: usize = 32;
const RB_LAST_FINALIZED: usize = 40;
const RB_SIZE_BITS: usize = 48;
const RB_DATA: usize = 56;
const RB_HEAD_LPOS: usize = 64;
const RB_TAIL_LPOS: usize = 72;

/// Parses `<level>[secs.usecs][Tpid] text`.
fn parse_line(line: &str) -> Result<builder::Msg> {
    let rest = line.strip_prefix('<').context("no <level>")?;
    let (level, rest) = rest.split_once('>').context("no <level>")?;
    let rest = rest.strip_prefix('[').context("no [time]")?;
    let (ts, rest) = rest.split_once(']').context("no [time]")?;
    let (secs, usecs) = ts.trim().split_once('.').context("time without '.'")?;
    let rest = rest.strip_prefix('[').context("no [caller]")?;
    let (caller, rest) = rest.split_once(']').context("no [caller]")?;
    let caller = match caller.split_at(1) {
        ("T", pid) => pid.parse::<u32>().context("pid")?,
        ("C", cpu) => 0x8000_0000 | cpu.parse::<u32>().context("cpu")?,
        _ => return Err("caller must be T<pid> or C<cpu>".to_owned()),
    };
    let text = rest.strip_prefix(' ').unwrap_or(rest);
    Ok(builder::Msg {
        ts_nsec: secs.parse::<u64>().context("seconds")? * 1_000_000_000
            + usecs.parse::<u64>().context("microseconds")? * 1000,
        level: level.parse().context("level")?,
        caller,
        text: text.as_bytes().to_vec(),
    })
}

fn put(ram: &mut [u8], pa: u64, bytes: &[u8]) {
    let at = pa as usize;
    ram[at..at + bytes.len()].copy_from_slice(bytes);
}

fn get_u64(ram: &[u8], pa: u64) -> u64 {
    let at = pa as usize;
    let mut b = [0u8; 8];
    b.copy_from_slice(&ram[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The physical address of a kernel-image virtual address of the builder's machine.
fn kimg_pa(va: u64) -> u64 {
    va.wrapping_sub(builder::KIMG_V)
        .wrapping_add(builder::KIMG_PA)
}

/// Writes `msgs` into a fresh ring in the machine and points its `printk_ringbuffer` there.
fn write_ring(m: &mut builder::Machine, msgs: &[builder::Msg]) -> Result<()> {
    let size = 1u64 << SIZE_BITS;
    let count = 1u64 << COUNT_BITS;
    ensure!(
        (msgs.len() as u64) < count,
        "{} records do not fit {count} descriptors",
        msgs.len()
    );
    // The ring buffer struct: SYMBOL(prb) is a pointer to it.
    let prb_sym = m
        .vmcoreinfo
        .lines()
        .find_map(|l| l.strip_prefix("SYMBOL(prb)="))
        .context("builder VMCOREINFO without SYMBOL(prb)")?;
    let prb_ptr = u64::from_str_radix(prb_sym, 16).context("SYMBOL(prb)")?;
    let rb = kimg_pa(get_u64(&m.ram, kimg_pa(prb_ptr)));
    // The direct map: the builder's ring pointers are PAGE_OFFSET + pa with pa < RAM.
    let old_descs = get_u64(&m.ram, rb + RB_DESCS as u64);
    let ram_len = builder::RAM as u64;
    let page_offset = old_descs - old_descs % ram_len;
    let dva = |pa: u64| page_offset + pa;
    // Clear the builder's (empty) ring and check the new one lands on free pages.
    for off in [RB_DESCS, RB_INFOS, RB_DATA] {
        let pa = get_u64(&m.ram, rb + off as u64) - page_offset;
        let end = (pa as usize + builder::PAGE).min(builder::RAM);
        m.ram[pa as usize..end].fill(0);
    }
    let info_end = INFO_PA + count * 88;
    ensure!(info_end <= ram_len, "ring does not fit the machine");
    ensure!(
        m.ram[TEXT_PA as usize..info_end as usize]
            .iter()
            .all(|&b| b == 0),
        "ring pages are not free"
    );
    let mut text = vec![0u8; size as usize];
    let mut descs = vec![0u8; count as usize * 24];
    let mut infos = vec![0u8; count as usize * 88];
    // The kernel's initial state: ids start at -(count + 1), data at lpos -size (index 0).
    let first_id = 0u64.wrapping_sub(count) & ID_MASK;
    let first_lpos = 0u64.wrapping_sub(size);
    let mut lpos = first_lpos;
    let mut id = first_id;
    for (seq, msg) in msgs.iter().enumerate() {
        id = (first_id + seq as u64) & ID_MASK;
        let slot = (id & (count - 1)) as usize;
        let blk = (msg.text.len() as u64 + 8 + 7) & !7;
        let begin = lpos;
        let next = begin.wrapping_add(blk);
        ensure!(
            next.wrapping_sub(first_lpos) <= size,
            "the log does not fit a {size}-byte ring"
        );
        let bi = (begin & (size - 1)) as usize;
        text[bi..bi + 8].copy_from_slice(&id.to_le_bytes());
        text[bi + 8..bi + 8 + msg.text.len()].copy_from_slice(&msg.text);
        let newest = seq + 1 == msgs.len();
        let state: u64 = if newest { 1 } else { 2 }; // committed, finalized
        for (i, v) in [(state << 62) | id, begin, next].into_iter().enumerate() {
            descs[slot * 24 + i * 8..slot * 24 + i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        let info = &mut infos[slot * 88..slot * 88 + 88];
        info[0..8].copy_from_slice(&(seq as u64).to_le_bytes());
        info[8..16].copy_from_slice(&msg.ts_nsec.to_le_bytes());
        info[16..18].copy_from_slice(&(msg.text.len() as u16).to_le_bytes());
        info[19] = (msg.level << 5) | 2; // level:3 over flags:5 (LOG_NEWLINE)
        info[20..24].copy_from_slice(&msg.caller.to_le_bytes());
        lpos = next;
    }
    put(&mut m.ram, TEXT_PA, &text);
    put(&mut m.ram, DESC_PA, &descs);
    put(&mut m.ram, INFO_PA, &infos);
    let last_finalized = if msgs.len() > 1 {
        id.wrapping_sub(1) & ID_MASK
    } else {
        first_id.wrapping_sub(1) & ID_MASK
    };
    let mut fields: Vec<(usize, u64)> = vec![
        (RB_DESCS, dva(DESC_PA)),
        (RB_INFOS, dva(INFO_PA)),
        (RB_HEAD_ID, id),
        (RB_TAIL_ID, first_id),
        (RB_LAST_FINALIZED, last_finalized),
        (RB_DATA, dva(TEXT_PA)),
        (RB_HEAD_LPOS, lpos),
        (RB_TAIL_LPOS, first_lpos),
    ];
    fields.sort();
    for (off, v) in fields {
        put(&mut m.ram, rb + off as u64, &v.to_le_bytes());
    }
    put(
        &mut m.ram,
        rb + RB_COUNT_BITS as u64,
        &COUNT_BITS.to_le_bytes(),
    );
    put(
        &mut m.ram,
        rb + RB_SIZE_BITS as u64,
        &SIZE_BITS.to_le_bytes(),
    );
    Ok(())
}

/// Replaces `KEY=...` lines of VMCOREINFO.
fn set_info(info: &str, key: &str, value: &str) -> String {
    info.lines()
        .map(|l| {
            if l.starts_with(&format!("{key}=")) {
                format!("{key}={value}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// Sets one 65-byte `new_utsname` field of the kdump header (index 1 nodename, 2 release, 3 version).
fn set_utsname(dump: &mut [u8], index: usize, value: &str) -> Result<()> {
    ensure!(value.len() < 65, "utsname field {value:?} is too long");
    let at = 12 + index * 65;
    dump[at..at + 65].fill(0);
    dump[at..at + value.len()].copy_from_slice(value.as_bytes());
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make-demo-vmcore: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let text =
        std::fs::read_to_string(&args.log).context(&format!("reading {}", args.log.display()))?;
    let msgs = text
        .lines()
        .enumerate()
        .map(|(i, l)| parse_line(l).context(&format!("{}:{}", args.log.display(), i + 1)))
        .collect::<Result<Vec<_>>>()?;
    let (mut m, _) = builder::lockless(
        &[],
        builder::Ring {
            size_bits: 12,
            count_bits: 7,
            exact_fit_stays: false,
        },
    );
    write_ring(&mut m, &msgs)?;
    let mut info = set_info(&m.vmcoreinfo, "OSRELEASE", &args.release);
    if let Some(id) = &args.build_id {
        info = set_info(&info, "BUILD-ID", id);
    }
    m.vmcoreinfo = set_info(&info, "CRASHTIME", &args.crashtime.to_string());
    let mut dump = builder::kdump(&m, builder::Codec::Zlib);
    set_utsname(&mut dump, 1, &args.hostname)?;
    set_utsname(&mut dump, 2, &args.release)?;
    set_utsname(
        &mut dump,
        3,
        "#1 SMP PREEMPT_DYNAMIC Fri Dec  4 11:02:17 UTC 2026",
    )?;
    // struct disk_dump_header: timestamp (struct timeval) after the utsname, 8-aligned.
    dump[408..416].copy_from_slice(&args.crashtime.to_le_bytes());
    dump[416..424].fill(0);
    if args.flat {
        dump = builder::flatten(&dump);
    }
    std::fs::write(&args.out, &dump).context(&format!("writing {}", args.out.display()))?;

    // Read it back: every record, in order, with its time stamp, level and caller.
    let log = crashsift_vmcore::open(&args.out)
        .and_then(|v| v.read_log())
        .context("reading back")?;
    ensure!(
        log.warnings.is_empty(),
        "reading back: warnings {:?}",
        log.warnings
    );
    ensure!(
        log.records.len() == msgs.len(),
        "reading back: {} records, wrote {}",
        log.records.len(),
        msgs.len()
    );
    for (r, m) in log.records.iter().zip(&msgs) {
        ensure!(
            r.text.as_bytes() == m.text.as_slice() && r.ts_nsec == m.ts_nsec,
            "reading back: record {} differs: {:?}",
            r.seq,
            r.text
        );
    }
    eprintln!(
        "{}: {} bytes, {} records read back",
        args.out.display(),
        dump.len(),
        log.records.len()
    );
    Ok(())
}
