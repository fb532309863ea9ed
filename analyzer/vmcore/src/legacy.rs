//! The variable-length `log_buf` of Linux 3.5 to 5.9, read by VMCOREINFO offsets alone.
//!
//! `SYMBOL(log_buf)` is a pointer variable to the buffer, `SYMBOL(log_buf_len)` its u32
//! length, `SYMBOL(log_first_idx)`/`SYMBOL(log_next_idx)` u32 indices of the oldest record
//! and of the next free byte. A record is a `struct printk_log` header (`SIZE(printk_log)`,
//! `SIZE(log)` before 3.11: ts_nsec, len, text_len, dict_len, facility, flags:5/level:3,
//! caller_id from 5.1) followed by text and dictionary, padded; `len == 0` means "continue
//! at index 0". The sequence number is not exported, so records count from 0.

use crate::Error;
use crate::log::{Caller, KernelLog, Record, escape_text};
use crate::memory::KernelMemory;
use crate::vmcoreinfo::VmcoreInfo;

/// Reads the legacy structured log buffer.
pub(crate) fn read(mem: &dyn KernelMemory, info: &VmcoreInfo) -> Result<KernelLog, Error> {
    let (hdr_size, ty) = match (info.size("printk_log"), info.size("log")) {
        (Some(s), _) => (s, "printk_log"),
        (None, Some(s)) => (s, "log"),
        (None, None) => {
            return Err(Error::Unsupported(
                "VMCOREINFO has SYMBOL(log_buf) but no SIZE(printk_log): the pre-3.5 plain character log is not supported".into(),
            ));
        }
    };
    let mut missing = Vec::new();
    let mut need = |v: Option<u64>, key: String| {
        v.unwrap_or_else(|| {
            missing.push(key);
            0
        })
    };
    let sym = |name: &str| info.symbol(name);
    let log_buf_sym = need(sym("log_buf"), "SYMBOL(log_buf)".into());
    let len_sym = need(sym("log_buf_len"), "SYMBOL(log_buf_len)".into());
    let first_sym = need(sym("log_first_idx"), "SYMBOL(log_first_idx)".into());
    let next_sym = need(sym("log_next_idx"), "SYMBOL(log_next_idx)".into());
    let off_ts = need(
        info.offset(&format!("{ty}.ts_nsec")),
        format!("OFFSET({ty}.ts_nsec)"),
    );
    let off_len = need(
        info.offset(&format!("{ty}.len")),
        format!("OFFSET({ty}.len)"),
    );
    let off_text_len = need(
        info.offset(&format!("{ty}.text_len")),
        format!("OFFSET({ty}.text_len)"),
    );
    let off_caller = info.offset(&format!("{ty}.caller_id"));
    let off_dict_len = info.offset(&format!("{ty}.dict_len"));
    if !missing.is_empty() {
        return Err(Error::Unsupported(format!(
            "VMCOREINFO describes the legacy log buffer only partly: missing {}",
            missing.join(", ")
        )));
    }
    if !(8..=256).contains(&hdr_size) {
        return Err(Error::Malformed(format!(
            "implausible SIZE({ty}) {hdr_size}"
        )));
    }
    let unreadable =
        |what: &str, e| Error::Malformed(format!("the legacy log {what} is not readable: {e}"));
    let buf = mem
        .read_u64(log_buf_sym)
        .map_err(|e| unreadable("buffer pointer", e))?;
    let buf_len = u64::from(mem.read_u32(len_sym).map_err(|e| unreadable("length", e))?);
    let first = u64::from(
        mem.read_u32(first_sym)
            .map_err(|e| unreadable("first index", e))?,
    );
    let next = u64::from(
        mem.read_u32(next_sym)
            .map_err(|e| unreadable("next index", e))?,
    );
    if buf_len == 0 || buf_len > 1 << 32 || first >= buf_len || next > buf_len {
        return Err(Error::Malformed(format!(
            "legacy log indices are garbage: length {buf_len}, first {first}, next {next}"
        )));
    }
    let mut log = KernelLog::default();
    let mut hdr = vec![0u8; hdr_size as usize];
    let get = |h: &[u8], at: u64, n: usize| -> u64 {
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        let mut v = [0u8; 8];
        if let Some(s) = at.checked_add(n).and_then(|end| h.get(at..end)) {
            v[..n].copy_from_slice(s);
        }
        u64::from_le_bytes(v)
    };
    let mut idx = first;
    let mut seq = 0u64;
    let mut wrapped = false;
    // Each record takes at least a header, so this bounds the walk on garbage.
    let max_records = buf_len / hdr_size + 2;
    while idx != next && seq < max_records {
        if idx + hdr_size > buf_len {
            if wrapped {
                log.warnings.push(format!(
                    "legacy log record at index {idx} runs past the buffer end"
                ));
                break;
            }
            idx = 0;
            wrapped = true;
            continue;
        }
        if let Err(e) = mem.read(buf.wrapping_add(idx), &mut hdr) {
            log.warnings.push(format!(
                "legacy log unreadable at index {idx}: {e}; the rest of the log is lost"
            ));
            break;
        }
        let len = get(&hdr, off_len, 2);
        if len == 0 {
            if wrapped {
                log.warnings
                    .push("legacy log wraps twice: the indices are inconsistent".into());
                break;
            }
            idx = 0;
            wrapped = true;
            continue;
        }
        let text_len = get(&hdr, off_text_len, 2);
        if len < hdr_size || idx + len > buf_len || hdr_size + text_len > len {
            log.warnings.push(format!("legacy log record at index {idx} has an invalid length {len}; the rest of the log is lost"));
            break;
        }
        let mut text = vec![0u8; text_len as usize];
        if let Err(e) = mem.read(buf.wrapping_add(idx + hdr_size), &mut text) {
            log.warnings
                .push(format!("legacy log text unreadable at index {idx}: {e}"));
            text.clear();
        }
        // facility and flags:5/level:3 follow dict_len (u16) in every layout.
        let fac_at = off_dict_len.map_or(off_text_len.saturating_add(4), |d| d.saturating_add(2));
        let (facility, level) = if fac_at.saturating_add(2) <= hdr_size {
            (
                Some(get(&hdr, fac_at, 1) as u8),
                Some((get(&hdr, fac_at + 1, 1) as u8) >> 5),
            )
        } else {
            (None, None)
        };
        log.records.push(Record {
            seq,
            ts_nsec: get(&hdr, off_ts, 8),
            level,
            facility,
            caller: off_caller.map(|at| Caller::from_raw(get(&hdr, at, 4) as u32)),
            text: escape_text(&text),
        });
        seq += 1;
        idx += len;
    }
    Ok(log)
}
