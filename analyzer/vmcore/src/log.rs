//! The kernel log as read from a dump: records, caller ids, and dmesg-style text output.

use std::fmt;

/// The kernel log of one dump: the records that could be read, in sequence order, and the
/// warnings about what could not (a truncated dump, a corrupt record, lost text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelLog {
    /// The records, oldest first.
    pub records: Vec<Record>,
    /// What is missing or suspicious, one human sentence each. Empty for a clean read.
    pub warnings: Vec<String>,
}

/// One printk record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's sequence number (the legacy `log_buf` does not export it: there it
    /// counts from 0 at the oldest record still in the buffer).
    pub seq: u64,
    /// Nanoseconds since boot (local clock) when the record was stored.
    pub ts_nsec: u64,
    /// Log level 0 (emerg) .. 7 (debug), when the layout lets us read it.
    pub level: Option<u8>,
    /// Syslog facility (0 = kernel), when the layout lets us read it.
    pub facility: Option<u8>,
    /// Who printed it (`CONFIG_PRINTK_CALLER` caller id), when recorded.
    pub caller: Option<Caller>,
    /// The text, without a trailing newline; may hold several lines. Bytes that are not
    /// printable are written `\xNN`, as `dmesg` and `vmcore-dmesg` do.
    pub text: String,
}

/// The printk caller id: a thread, or a CPU for messages printed outside task context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A task, by pid (`T123`).
    Thread(u32),
    /// A CPU, by number (`C1`), for interrupt context.
    Cpu(u32),
}

impl Caller {
    /// Decodes the kernel's u32 caller id: bit 31 set means a CPU number.
    pub fn from_raw(raw: u32) -> Caller {
        if raw & 0x8000_0000 != 0 {
            Caller::Cpu(raw & 0x7fff_ffff)
        } else {
            Caller::Thread(raw)
        }
    }

    /// The kernel's u32 encoding.
    pub fn raw(self) -> u32 {
        match self {
            Caller::Thread(pid) => pid,
            Caller::Cpu(cpu) => cpu | 0x8000_0000,
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Thread(pid) => write!(f, "T{pid}"),
            Caller::Cpu(cpu) => write!(f, "C{cpu}"),
        }
    }
}

impl Record {
    /// The `[%5lu.%06lu] ` prefix that `dmesg`, `vmcore-dmesg` and `crash log` print.
    pub fn timestamp_prefix(&self) -> String {
        format!(
            "[{:5}.{:06}] ",
            self.ts_nsec / 1_000_000_000,
            (self.ts_nsec % 1_000_000_000) / 1000
        )
    }
}

impl KernelLog {
    /// The log as `crash log` prints it: `[%5lu.%06lu] text` per record; further lines of a
    /// multi-line record are indented by the width of the timestamp, as `crash`,
    /// `makedumpfile --dump-dmesg` and util-linux `dmesg` do. Every line ends in `\n`.
    pub fn to_dmesg_text(&self) -> String {
        let mut out = String::new();
        for record in &self.records {
            let prefix = record.timestamp_prefix();
            out.push_str(&prefix);
            let mut lines = record.text.split('\n');
            out.push_str(lines.next().unwrap_or_default());
            out.push('\n');
            for line in lines {
                out.extend(std::iter::repeat_n(' ', prefix.len()));
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// Turns raw record bytes into text: valid UTF-8 stays, `\n` and `\t` stay, other control
/// bytes and bytes of invalid UTF-8 become `\xNN`.
pub(crate) fn escape_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                push_escaped(&mut out, valid);
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // valid_up_to() marks a UTF-8 boundary, so this cannot fail.
                push_escaped(&mut out, std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(after.len()).max(1);
                for b in &after[..bad] {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                rest = &after[bad..];
            }
        }
    }
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ts_nsec: u64, text: &str) -> Record {
        Record {
            seq: 0,
            ts_nsec,
            level: None,
            facility: None,
            caller: None,
            text: text.into(),
        }
    }

    // Checks the timestamp format and the indentation of continuation lines.
    #[test]
    fn dmesg_text_formats_like_crash_log() {
        let log = KernelLog {
            records: vec![rec(1_234_567_891, "one"), rec(123_456_000_000_000, "a\nb")],
            warnings: vec![],
        };
        assert_eq!(
            log.to_dmesg_text(),
            "[    1.234567] one\n[123456.000000] a\n                b\n"
        );
    }

    // Checks that control bytes and invalid UTF-8 are escaped and UTF-8 is kept.
    #[test]
    fn escapes_unprintable_bytes() {
        assert_eq!(
            escape_text(b"a\x01b\xffc\n\xc3\xa9"),
            "a\\x01b\\xffc\n\u{e9}"
        );
    }

    // Checks the caller id encoding both ways.
    #[test]
    fn caller_ids_round_trip() {
        assert_eq!(Caller::from_raw(0x8000_0003).to_string(), "C3");
        assert_eq!(Caller::from_raw(1234).to_string(), "T1234");
        assert_eq!(Caller::Cpu(3).raw(), 0x8000_0003);
    }
}
