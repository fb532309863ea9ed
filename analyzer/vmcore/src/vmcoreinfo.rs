//! VMCOREINFO: the `KEY=VALUE` note the kernel leaves for dump readers, parsed into a typed
//! struct.
//!
//! Keys and encodings follow include/linux/vmcore_info.h: `SYMBOL(x)` and `KERNELOFFSET` are
//! hex without `0x`; `SIZE`, `OFFSET`, `LENGTH` are decimal; `NUMBER` is decimal but some
//! architecture keys are written `0x...`, so numbers auto-detect their base. Unknown keys are
//! kept verbatim in [`VmcoreInfo::get`].

use std::collections::HashMap;

/// The parsed VMCOREINFO note. Everything is optional: a kernel may lack any key, and the
/// log readers ask for what they need and report what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmcoreInfo {
    osrelease: Option<String>,
    build_id: Option<String>,
    page_size: Option<u64>,
    kernel_offset: Option<u64>,
    phys_base: Option<u64>,
    crash_time: Option<i64>,
    symbols: HashMap<String, u64>,
    sizes: HashMap<String, u64>,
    offsets: HashMap<String, u64>,
    lengths: HashMap<String, u64>,
    numbers: HashMap<String, i64>,
    raw: HashMap<String, String>,
}

impl VmcoreInfo {
    /// Parses the note's text. Lines that are not `KEY=VALUE`, or whose value does not parse
    /// in the key's encoding, are skipped (kept only in the raw map); never fails.
    pub fn parse(text: &[u8]) -> VmcoreInfo {
        let mut info = VmcoreInfo::default();
        let text = String::from_utf8_lossy(text);
        for line in text.split('\n') {
            let line = line.trim_end_matches(['\r', '\0']);
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            info.raw.insert(key.to_owned(), value.to_owned());
            info.add(key, value);
        }
        info
    }

    fn add(&mut self, key: &str, value: &str) {
        if let Some(name) = bracketed(key, "SYMBOL(") {
            if let Ok(v) = u64::from_str_radix(value, 16) {
                self.symbols.insert(name.to_owned(), v);
            }
        } else if let Some(name) = bracketed(key, "SIZE(") {
            if let Some(v) = parse_unsigned(value) {
                self.sizes.insert(name.to_owned(), v);
            }
        } else if let Some(name) = bracketed(key, "OFFSET(") {
            if let Some(v) = parse_unsigned(value) {
                self.offsets.insert(name.to_owned(), v);
            }
        } else if let Some(name) = bracketed(key, "LENGTH(") {
            if let Some(v) = parse_unsigned(value) {
                self.lengths.insert(name.to_owned(), v);
            }
        } else if let Some(name) = bracketed(key, "NUMBER(") {
            if let Some(v) = parse_signed(value) {
                self.numbers.insert(name.to_owned(), v);
                if name == "phys_base" {
                    // Written as a signed long: QEMU guests can have a negative phys_base.
                    self.phys_base = Some(v as u64);
                }
            }
        } else {
            match key {
                "OSRELEASE" => self.osrelease = Some(value.to_owned()),
                "BUILD-ID" => self.build_id = Some(value.to_owned()),
                "PAGESIZE" => self.page_size = parse_unsigned(value),
                "KERNELOFFSET" => self.kernel_offset = u64::from_str_radix(value, 16).ok(),
                "CRASHTIME" => self.crash_time = value.parse().ok(),
                _ => {}
            }
        }
    }

    /// The kernel release (`uname -r`) of the crashed kernel.
    pub fn osrelease(&self) -> Option<&str> {
        self.osrelease.as_deref()
    }

    /// The GNU build id of the crashed kernel's vmlinux, as the 40 hex digits the kernel
    /// printed; `None` when absent or not hex (some stable kernels wrote garbage here).
    pub fn build_id(&self) -> Option<&str> {
        self.build_id.as_deref().filter(|b| {
            !b.is_empty() && b.len() % 2 == 0 && b.bytes().all(|c| c.is_ascii_hexdigit())
        })
    }

    /// The page size of the crashed machine.
    pub fn page_size(&self) -> Option<u64> {
        self.page_size
    }

    /// The KASLR slide (`KERNELOFFSET`), 0 on a kernel without KASLR.
    pub fn kernel_offset(&self) -> Option<u64> {
        self.kernel_offset
    }

    /// x86_64 `phys_base` (`NUMBER(phys_base)`), as a two's-complement u64.
    pub fn phys_base(&self) -> Option<u64> {
        self.phys_base
    }

    /// Wall-clock seconds at the crash (`CRASHTIME`).
    pub fn crash_time(&self) -> Option<i64> {
        self.crash_time
    }

    /// `SYMBOL(name)`: the runtime address of a kernel symbol, KASLR applied.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols.get(name).copied()
    }

    /// `SIZE(name)`: the size of a kernel type.
    pub fn size(&self, name: &str) -> Option<u64> {
        self.sizes.get(name).copied()
    }

    /// `OFFSET(type.field)`: a field's offset in its type.
    pub fn offset(&self, name: &str) -> Option<u64> {
        self.offsets.get(name).copied()
    }

    /// `LENGTH(name)`: an array's length.
    pub fn length(&self, name: &str) -> Option<u64> {
        self.lengths.get(name).copied()
    }

    /// `NUMBER(name)`: a kernel constant.
    pub fn number(&self, name: &str) -> Option<i64> {
        self.numbers.get(name).copied()
    }

    /// Any key's value as written, e.g. `get("CONFIG_KALLSYMS")`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.raw.get(key).map(String::as_str)
    }

    /// Whether the note had no parsable line at all.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

fn bracketed<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.strip_prefix(prefix)?.strip_suffix(')')
}

fn parse_unsigned(value: &str) -> Option<u64> {
    match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

fn parse_signed(value: &str) -> Option<i64> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let magnitude = parse_unsigned(digits)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        // 0x%lx values above i64::MAX (e.g. arm64 kimage_voffset) keep their bits.
        Some(magnitude as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checks every key form, including a negative phys_base and a 0x-prefixed NUMBER.
    #[test]
    fn parses_each_key_form() {
        let info = VmcoreInfo::parse(
            b"OSRELEASE=6.1.0-57-amd64\nBUILD-ID=6a2b4ac77585b8cf102cba771300e573c8489b69\n\
              PAGESIZE=4096\nSYMBOL(prb)=ffffffff8ea643e0\nSIZE(printk_info)=88\n\
              OFFSET(printk_info.text_len)=16\nLENGTH(printk_info_device)=48\n\
              NUMBER(phys_base)=-142606336\nNUMBER(VMALLOC_START)=0xffffc90000000000\n\
              KERNELOFFSET=21200000\nCRASHTIME=1796414413\nCONFIG_KALLSYMS=y\ngarbage\n",
        );
        assert_eq!(info.osrelease(), Some("6.1.0-57-amd64"));
        assert_eq!(
            info.build_id(),
            Some("6a2b4ac77585b8cf102cba771300e573c8489b69")
        );
        assert_eq!(info.page_size(), Some(4096));
        assert_eq!(info.symbol("prb"), Some(0xffffffff8ea643e0));
        assert_eq!(info.size("printk_info"), Some(88));
        assert_eq!(info.offset("printk_info.text_len"), Some(16));
        assert_eq!(info.length("printk_info_device"), Some(48));
        assert_eq!(info.phys_base(), Some((-142606336i64) as u64));
        assert_eq!(
            info.number("VMALLOC_START"),
            Some(0xffffc90000000000u64 as i64)
        );
        assert_eq!(info.kernel_offset(), Some(0x21200000));
        assert_eq!(info.crash_time(), Some(1796414413));
        assert_eq!(info.get("CONFIG_KALLSYMS"), Some("y"));
        assert!(!info.is_empty());
    }

    // Checks that a garbage build id is reported as unknown rather than passed on.
    #[test]
    fn garbage_build_id_is_none() {
        let info = VmcoreInfo::parse(b"BUILD-ID=zz\x01\n");
        assert_eq!(info.build_id(), None);
        assert!(VmcoreInfo::parse(b"no equals sign").is_empty());
    }
}
