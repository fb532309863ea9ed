//! Symbolizes Linux kernel stack frames against vmlinux and module DWARF.
//!
//! A printed frame such as `ext4_readdir+0x1a/0x40 [ext4]` or a raw address becomes the
//! full inline chain of source locations (function, file with compilation directory,
//! line, column, inlined or not), innermost first.
//!
//! Nouns: a [`Symbolizer`] finds and caches debug objects by build id (explicit paths,
//! `/usr/lib/debug`, a [`SymbolSource`] for the object store, debuginfod) within a
//! memory bound; a [`DebugObject`] is one loaded vmlinux or `.ko`: its symbol table with
//! kallsyms lengths ([`symtab`]) and its line table, either our lazy DWARF index
//! ([`dwarf`], parsed per compilation unit, in parallel, only where addresses fall) or a
//! persisted [`index`] that a restarted process maps warm.
//!
//! Start reading at [`symbolizer`]: `Symbolizer::symbolize_report` fills each
//! `Frame::source`. The `crashsift symbolize` command is [`cli::run`].
//!
//! Modules in reading order: [`frame`] (one printed frame), [`symtab`] (names, kallsyms
//! lengths), [`table`] (address segments → inline chains), [`dwarf`] (the lazy unit
//! index that builds tables), [`elf`] (loading, decompression, module relocation),
//! [`index`] (the persisted form), [`locate`] and [`debuginfod`] (finding files),
//! [`symbolizer`] (the cache and the frame rules), [`cli`], [`error`], [`mmap`].
//!
//! Invariants: no panic on any input (files are fuzzed, see `fuzz/`); a build id
//! mismatch is an error, never an answer; an ambiguous name yields its candidates, never
//! a silent pick; parsers (`frame`, `symtab`, `table`, `index`) do no I/O.

pub mod cli;
pub mod debuginfod;
pub mod dwarf;
pub mod elf;
pub mod error;
pub mod frame;
mod fxhash;
pub mod index;
pub mod locate;
pub mod mmap;
pub mod symbolizer;
pub mod symtab;
pub mod table;

pub use error::SymbolizeError;
pub use locate::SymbolSource;
pub use symbolizer::{
    Candidate, DebugObject, FrameError, KernelRef, SymbolHit, SymbolizeSummary, Symbolized,
    Symbolizer, SymbolizerConfig,
};
