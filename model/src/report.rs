//! One kernel crash report as found in a kernel log: its kind, access, title, context and
//! stacks of frames. The parser (`crashsift-report`) produces these; the symbolizer fills
//! each frame's `source`; the store keeps them.

use serde::{Deserialize, Serialize};

/// What detector or path printed the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Kfence,
    Kasan,
    Kmsan,
    Kcsan,
    Ubsan,
    /// `BUG: ...` lines that are not one of the more specific kinds.
    Bug,
    /// `kernel BUG at file:line!`
    KernelBug,
    /// `Oops: ...` without a more specific header.
    Oops,
    GeneralProtectionFault,
    /// `BUG: unable to handle page fault` / `kernel paging request`.
    PageFault,
    NullPointerDereference,
    Warning,
    Panic,
    Lockdep,
    RcuStall,
    SoftLockup,
    HardLockup,
    HungTask,
    MemoryLeak,
    Refcount,
    DoubleFault,
    StackOverflow,
    ListCorruption,
    Unknown,
}

impl Kind {
    /// The stable string used in signatures, the store and `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Kfence => "kfence",
            Kind::Kasan => "kasan",
            Kind::Kmsan => "kmsan",
            Kind::Kcsan => "kcsan",
            Kind::Ubsan => "ubsan",
            Kind::Bug => "bug",
            Kind::KernelBug => "kernel_bug",
            Kind::Oops => "oops",
            Kind::GeneralProtectionFault => "general_protection_fault",
            Kind::PageFault => "page_fault",
            Kind::NullPointerDereference => "null_pointer_dereference",
            Kind::Warning => "warning",
            Kind::Panic => "panic",
            Kind::Lockdep => "lockdep",
            Kind::RcuStall => "rcu_stall",
            Kind::SoftLockup => "soft_lockup",
            Kind::HardLockup => "hard_lockup",
            Kind::HungTask => "hung_task",
            Kind::MemoryLeak => "memory_leak",
            Kind::Refcount => "refcount",
            Kind::DoubleFault => "double_fault",
            Kind::StackOverflow => "stack_overflow",
            Kind::ListCorruption => "list_corruption",
            Kind::Unknown => "unknown",
        }
    }

    /// The inverse of [`Kind::as_str`]; unknown strings map to [`Kind::Unknown`].
    pub fn from_str_lossy(s: &str) -> Kind {
        ALL_KINDS
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .unwrap_or(Kind::Unknown)
    }
}

/// Every kind, in declaration order.
pub const ALL_KINDS: &[Kind] = &[
    Kind::Kfence,
    Kind::Kasan,
    Kind::Kmsan,
    Kind::Kcsan,
    Kind::Ubsan,
    Kind::Bug,
    Kind::KernelBug,
    Kind::Oops,
    Kind::GeneralProtectionFault,
    Kind::PageFault,
    Kind::NullPointerDereference,
    Kind::Warning,
    Kind::Panic,
    Kind::Lockdep,
    Kind::RcuStall,
    Kind::SoftLockup,
    Kind::HardLockup,
    Kind::HungTask,
    Kind::MemoryLeak,
    Kind::Refcount,
    Kind::DoubleFault,
    Kind::StackOverflow,
    Kind::ListCorruption,
    Kind::Unknown,
];

/// Read or write, as the detector printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessType {
    Read,
    Write,
}

/// The faulting memory access, where the report gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub access_type: Option<AccessType>,
    pub size: Option<u64>,
    pub address: Option<u64>,
}

/// One source location of a symbolized frame (one entry of an inline chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLoc {
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub inlined: bool,
}

/// One frame as the kernel printed it, plus what the symbolizer found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// The symbol name as printed (clone suffixes kept), `None` for a bare address.
    pub function: Option<String>,
    pub offset: Option<u64>,
    /// The length kallsyms printed after the slash (distance to the next symbol).
    pub size: Option<u64>,
    pub module: Option<String>,
    pub build_id: Option<String>,
    /// The raw address where the frame printed one (`[<ffffffff81234567>]`).
    pub address: Option<u64>,
    /// False for frames printed with a leading `? `.
    pub reliable: bool,
    /// True when the address is exact (a `RIP:` line, the first frame from registers),
    /// false for return addresses that the symbolizer must step back onto the call.
    pub exact: bool,
    /// The inline chain, innermost first, once symbolized; empty before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<SourceLoc>,
    /// Why symbolization failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbolize_error: Option<String>,
}

/// One printed stack: `Call Trace`, `allocated by`, `freed by`, ...
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    /// `access`, `call_trace`, `alloc`, `free`, `irq`, ... as the parser names it.
    pub name: String,
    pub frames: Vec<Frame>,
}

/// One kernel crash report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub kind: Kind,
    /// The detector's own classification, e.g. `use-after-free`, `slab-out-of-bounds`.
    pub sub_kind: Option<String>,
    /// For example `KFENCE: use-after-free read in find_uprobe`.
    pub title: String,
    pub access: Option<Access>,
    /// The function a human would blame, normalized (no offset, no clone suffix).
    pub guilty_frame: Option<String>,
    /// The group key; see `crashsift-report::signature`.
    pub signature: String,
    /// Alternative keys used to suggest merges (for example the bad-access function).
    pub aliases: Vec<String>,
    /// The report is truncated or garbled; its signature is not trusted for grouping.
    pub corrupted: bool,
    pub corrupted_reason: Option<String>,
    pub cpu: Option<u32>,
    pub pid: Option<u32>,
    pub comm: Option<String>,
    pub kernel_release: Option<String>,
    pub taint: Option<String>,
    pub hardware: Option<String>,
    /// The faulting instruction (`RIP:`/`pc :`) where printed.
    pub rip: Option<Frame>,
    pub stacks: Vec<Stack>,
    /// The `Kernel Offset:` (KASLR) printed with the report, if any.
    pub kaslr_offset: Option<u64>,
    /// Line range of the report in the log (0-based, end exclusive).
    pub start_line: usize,
    pub end_line: usize,
    /// The report text as printed, prefixes stripped.
    pub text: String,
}
