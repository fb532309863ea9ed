//! The crash-directory layouts real kdump implementations write, and the pure decision
//! "is this dump directory complete, new, not yet uploaded?".
//!
//! [`decide`] is a function of a directory listing ([`DirListing`], gathered by
//! [`crate::scan`]), the clock and the journal's verdict; it does no I/O, so every layout
//! is tested as data. Recognized layouts:
//! - `kdump-tools` (Debian/Ubuntu): `dmesg.STAMP`, `dump.STAMP[.ext]`, or the fallback
//!   `vmcore.STAMP`; `dump-incomplete*` / `vmcore-incomplete` while writing;
//! - `rhel` (RHEL/Fedora): `vmcore` (or `vmcore.flat`), `vmcore-dmesg.txt`,
//!   `kexec-dmesg.log`; `vmcore-incomplete`, `vmcore-dmesg-incomplete.txt` while writing;
//! - `suse`: `README.txt`, `dmesg`, `vmcore` (or `vmcore.N`); complete when README.txt
//!   says `vmcore status:` (it is overwritten last);
//! - `plain`: any directory holding `vmcore*`, `dmesg*.txt` or `kfence*.log`.
//!
//! A dump left `-incomplete` is waited for during the quiet period (measured from its
//! newest modification), then uploaded flagged incomplete: a truncated vmcore still holds
//! a readable kernel log. Symlinks are never artifacts.

use crashsift_model::crash::ArtifactKind;

/// What a directory entry is, as `lstat` saw it (symlinks are not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    Other,
}

/// One entry of a dump directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: EntryType,
    pub size: u64,
    /// Modification time, Unix seconds.
    pub mtime: i64,
}

/// A dump directory as the scanner saw it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirListing {
    /// The directory's name relative to the crash directory (`.` for the crash directory).
    pub rel_dir: String,
    pub entries: Vec<Entry>,
    /// The first bytes of `README.txt` when present (SUSE's completion marker).
    pub readme: Option<String>,
}

/// What the journal already knows of this directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalVerdict {
    /// Never seen, or seen and not finished.
    Pending,
    /// Its manifest is written: nothing more to do.
    Done,
}

/// A file to upload, with the kind the analyzer will read it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedArtifact {
    pub name: String,
    pub kind: ArtifactKind,
    pub size: u64,
}

/// The decision for one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not a dump, or already uploaded.
    Ignore { reason: String },
    /// A dump still being written; look again after `until` (Unix seconds).
    Wait { until: i64, reason: String },
    /// Upload these artifacts (smallest first, so triage data lands early).
    Upload {
        layout: &'static str,
        artifacts: Vec<PlannedArtifact>,
        incomplete: bool,
        /// Entries refused (symlinks, special files), with the reason, for the log.
        refused: Vec<(String, String)>,
    },
}

/// Names in the crash directory that are never dumps.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || matches!(name, "kexec_cmd" | "kdump_lock" | "lost+found")
        || name.ends_with(".upload")
        || name.ends_with(".uploaded")
        || name.ends_with(".crash")
        || name.ends_with(".lock")
}

fn is_stamp(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Classifies one file name: its artifact kind, whether it is a temporary `-incomplete`
/// name, and which layout it points to (`None` when the name is shared by several).
fn classify_name(name: &str) -> Option<(ArtifactKind, bool, Option<&'static str>)> {
    let lower = name.to_ascii_lowercase();
    // Debian / Ubuntu kdump-tools.
    if let Some(rest) = name.strip_prefix("dump.")
        && rest.get(..12).is_some_and(is_stamp)
    {
        return Some((ArtifactKind::Vmcore, false, Some("kdump-tools")));
    }
    if name.starts_with("dump-incomplete") {
        return Some((ArtifactKind::Vmcore, true, Some("kdump-tools")));
    }
    if let Some(rest) = name.strip_prefix("dmesg.")
        && is_stamp(rest)
    {
        return Some((ArtifactKind::Dmesg, false, Some("kdump-tools")));
    }
    if let Some(rest) = name.strip_prefix("vmcore.")
        && rest.get(..12).is_some_and(is_stamp)
    {
        return Some((ArtifactKind::Vmcore, false, Some("kdump-tools")));
    }
    // RHEL / Fedora.
    match name {
        "vmcore-incomplete" => return Some((ArtifactKind::Vmcore, true, None)),
        "vmcore-dmesg-incomplete.txt" => return Some((ArtifactKind::Dmesg, true, Some("rhel"))),
        "vmcore-dmesg.txt" => return Some((ArtifactKind::Dmesg, false, Some("rhel"))),
        "kexec-dmesg.log" => return Some((ArtifactKind::Other, false, Some("rhel"))),
        "vmcore.flat" => return Some((ArtifactKind::Vmcore, false, Some("rhel"))),
        "opalcore" => return Some((ArtifactKind::Other, false, Some("rhel"))),
        // SUSE.
        "README.txt" => return Some((ArtifactKind::Other, false, Some("suse"))),
        "dmesg" => return Some((ArtifactKind::Dmesg, false, Some("suse"))),
        "vmcore" => return Some((ArtifactKind::Vmcore, false, None)),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("vmcore.")
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return Some((ArtifactKind::Vmcore, false, Some("suse")));
    }
    if name.starts_with("System.map-") || name.starts_with("vmlinux-") {
        return Some((ArtifactKind::Other, false, Some("suse")));
    }
    // Plain directories.
    if lower.starts_with("kfence") && lower.ends_with(".log") {
        return Some((ArtifactKind::Kfence, false, None));
    }
    if lower.starts_with("kasan") && lower.ends_with(".log") {
        return Some((ArtifactKind::Kfence, false, None));
    }
    if lower.starts_with("dmesg") && lower.ends_with(".txt") {
        return Some((ArtifactKind::Dmesg, false, None));
    }
    if lower.starts_with("vmcore") {
        return Some((ArtifactKind::Vmcore, lower.contains("incomplete"), None));
    }
    None
}

/// Decides what to do with one dump directory at time `now` (Unix seconds).
pub fn decide(
    listing: &DirListing,
    now: i64,
    quiet_period_secs: i64,
    journal: JournalVerdict,
) -> Decision {
    if journal == JournalVerdict::Done {
        return Decision::Ignore {
            reason: "already uploaded".into(),
        };
    }
    let mut artifacts = Vec::new();
    let mut refused = Vec::new();
    let mut any_incomplete = false;
    let mut layout_votes: Vec<&'static str> = Vec::new();
    let mut newest = i64::MIN;
    let mut has_dump_or_log = false;
    for e in &listing.entries {
        if is_ignored_name(&e.name) {
            continue;
        }
        let Some((kind, incomplete, layout)) = classify_name(&e.name) else {
            continue;
        };
        match e.kind {
            EntryType::File => {}
            EntryType::Symlink => {
                refused.push((
                    e.name.clone(),
                    "is a symlink; symlinks are never followed".into(),
                ));
                continue;
            }
            EntryType::Dir => continue,
            EntryType::Other => {
                refused.push((e.name.clone(), "is not a regular file".into()));
                continue;
            }
        }
        newest = newest.max(e.mtime);
        any_incomplete |= incomplete;
        if let Some(l) = layout {
            layout_votes.push(l);
        }
        has_dump_or_log |= kind != ArtifactKind::Other;
        artifacts.push(PlannedArtifact {
            name: e.name.clone(),
            kind,
            size: e.size,
        });
    }
    if !has_dump_or_log {
        return if refused.is_empty() {
            Decision::Ignore {
                reason: "no dump or log files".into(),
            }
        } else {
            Decision::Ignore {
                reason: format!(
                    "no usable dump or log files ({} refused: {})",
                    refused.len(),
                    refused
                        .iter()
                        .map(|(n, r)| format!("{n} {r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        };
    }
    let layout = pick_layout(&layout_votes, &artifacts);
    // SUSE writes no temporary names: README.txt is overwritten with the status last.
    if layout == "suse"
        && let Some(readme) = &listing.readme
        && !readme.contains("vmcore status:")
    {
        any_incomplete = true;
    }
    if layout == "suse" && listing.readme.is_none() {
        any_incomplete = true;
    }
    if any_incomplete {
        let until = newest.saturating_add(quiet_period_secs);
        if now < until {
            return Decision::Wait {
                until,
                reason: "dump still being written (incomplete marker)".into(),
            };
        }
    }
    artifacts.sort_by(|a, b| {
        (a.kind == ArtifactKind::Vmcore, a.size, &a.name).cmp(&(
            b.kind == ArtifactKind::Vmcore,
            b.size,
            &b.name,
        ))
    });
    Decision::Upload {
        layout,
        artifacts,
        incomplete: any_incomplete,
        refused,
    }
}

fn pick_layout(votes: &[&'static str], artifacts: &[PlannedArtifact]) -> &'static str {
    for l in ["kdump-tools", "rhel", "suse"] {
        if votes.contains(&l) {
            return l;
        }
    }
    // `vmcore` + `vmcore-incomplete` alone are RHEL's names; anything else is plain.
    if artifacts
        .iter()
        .all(|a| a.name == "vmcore" || a.name == "vmcore-incomplete")
    {
        return "rhel";
    }
    "plain"
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn file(name: &str, size: u64, mtime: i64) -> Entry {
        Entry {
            name: name.into(),
            kind: EntryType::File,
            size,
            mtime,
        }
    }

    fn listing(dir: &str, entries: Vec<Entry>) -> DirListing {
        DirListing {
            rel_dir: dir.into(),
            entries,
            readme: None,
        }
    }

    fn upload(d: Decision) -> (&'static str, Vec<String>, bool) {
        match d {
            Decision::Upload {
                layout,
                artifacts,
                incomplete,
                ..
            } => (
                layout,
                artifacts.into_iter().map(|a| a.name).collect(),
                incomplete,
            ),
            other => panic!("expected upload, got {other:?}"),
        }
    }

    const NOW: i64 = 1_000_000;
    const QUIET: i64 = 600;

    // A finished kdump-tools dump uploads dmesg first, then the dump.
    #[test]
    fn debian_complete() {
        let l = listing(
            "202612041200",
            vec![
                file("dump.202612041200", 5000, NOW - 10),
                file("dmesg.202612041200", 300, NOW - 20),
            ],
        );
        let (layout, names, inc) = upload(decide(&l, NOW, QUIET, JournalVerdict::Pending));
        assert_eq!(layout, "kdump-tools");
        assert_eq!(names, vec!["dmesg.202612041200", "dump.202612041200"]);
        assert!(!inc);
    }

    // A kdump-tools dump still named dump-incomplete waits, then uploads flagged incomplete.
    #[test]
    fn debian_incomplete_waits_then_uploads() {
        let l = listing(
            "202612041200",
            vec![
                file("dmesg.202612041200", 300, NOW - 20),
                file("dump-incomplete", 5000, NOW - 10),
            ],
        );
        match decide(&l, NOW, QUIET, JournalVerdict::Pending) {
            Decision::Wait { until, .. } => assert_eq!(until, NOW - 10 + QUIET),
            other => panic!("{other:?}"),
        }
        let (layout, names, inc) = upload(decide(&l, NOW + QUIET, QUIET, JournalVerdict::Pending));
        assert_eq!(layout, "kdump-tools");
        assert_eq!(names, vec!["dmesg.202612041200", "dump-incomplete"]);
        assert!(inc);
    }

    // The makedumpfile fallback copy (vmcore.STAMP) and compressed dumps are kdump-tools dumps.
    #[test]
    fn debian_variants() {
        let l = listing(
            "202612041200",
            vec![
                file("vmcore.202612041200", 50, 1),
                file("dmesg.202612041200", 5, 1),
            ],
        );
        assert_eq!(
            upload(decide(&l, NOW, QUIET, JournalVerdict::Pending)).0,
            "kdump-tools"
        );
        let l = listing("202612041200", vec![file("dump.202612041200.xz", 50, 1)]);
        assert_eq!(
            upload(decide(&l, NOW, QUIET, JournalVerdict::Pending)).0,
            "kdump-tools"
        );
    }

    // A finished RHEL dump uploads its logs first and the vmcore last.
    #[test]
    fn rhel_complete() {
        let l = listing(
            "127.0.0.1-2026-12-04-12:00:00",
            vec![
                file("vmcore", 9000, 1),
                file("vmcore-dmesg.txt", 400, 1),
                file("kexec-dmesg.log", 200, 1),
            ],
        );
        let (layout, names, inc) = upload(decide(&l, NOW, QUIET, JournalVerdict::Pending));
        assert_eq!(layout, "rhel");
        assert_eq!(names, vec!["kexec-dmesg.log", "vmcore-dmesg.txt", "vmcore"]);
        assert!(!inc);
    }

    // A RHEL dump left vmcore-incomplete is waited for, then flagged incomplete.
    #[test]
    fn rhel_incomplete() {
        let l = listing(
            "127.0.0.1-2026-12-04-12:00:00",
            vec![
                file("vmcore-incomplete", 9000, NOW - 5),
                file("vmcore-dmesg-incomplete.txt", 400, NOW - 6),
            ],
        );
        assert!(matches!(
            decide(&l, NOW, QUIET, JournalVerdict::Pending),
            Decision::Wait { .. }
        ));
        let (layout, _, inc) = upload(decide(&l, NOW + 1000, QUIET, JournalVerdict::Pending));
        assert_eq!(layout, "rhel");
        assert!(inc);
    }

    // SUSE is complete only when README.txt carries the final status.
    #[test]
    fn suse_readme_marker() {
        let mut l = listing(
            "2026-12-04-12-00",
            vec![
                file("README.txt", 100, NOW - 1),
                file("dmesg", 300, NOW - 1),
                file("vmcore", 9000, NOW - 1),
            ],
        );
        l.readme = Some("This file will be overwritten when the dump is finished.".into());
        assert!(matches!(
            decide(&l, NOW, QUIET, JournalVerdict::Pending),
            Decision::Wait { .. }
        ));
        l.readme =
            Some("dmesg status: saved successfully\nvmcore status: saved successfully\n".into());
        let (layout, names, inc) = upload(decide(&l, NOW, QUIET, JournalVerdict::Pending));
        assert_eq!(layout, "suse");
        assert_eq!(names, vec!["README.txt", "dmesg", "vmcore"]);
        assert!(!inc);
    }

    // A plain directory of logs and a vmcore is a dump; kfence logs are Kfence artifacts.
    #[test]
    fn plain_directory() {
        let l = listing(
            "soak-run-7",
            vec![
                file("kfence-report.log", 50, 1),
                file("dmesg-boot.txt", 60, 1),
                file("notes.md", 10, 1),
            ],
        );
        match decide(&l, NOW, QUIET, JournalVerdict::Pending) {
            Decision::Upload {
                layout, artifacts, ..
            } => {
                assert_eq!(layout, "plain");
                assert_eq!(artifacts.len(), 2);
                assert_eq!(artifacts[0].kind, ArtifactKind::Kfence);
                assert_eq!(artifacts[1].kind, ArtifactKind::Dmesg);
            }
            other => panic!("{other:?}"),
        }
    }

    // Symlinks are refused, never uploaded; a directory of only symlinks is ignored.
    #[test]
    fn symlinks_refused() {
        let mut l = listing(
            "evil",
            vec![Entry {
                name: "vmcore".into(),
                kind: EntryType::Symlink,
                size: 0,
                mtime: 1,
            }],
        );
        assert!(matches!(
            decide(&l, NOW, QUIET, JournalVerdict::Pending),
            Decision::Ignore { .. }
        ));
        l.entries.push(file("dmesg.txt", 10, 1));
        match decide(&l, NOW, QUIET, JournalVerdict::Pending) {
            Decision::Upload {
                artifacts, refused, ..
            } => {
                assert_eq!(artifacts.len(), 1);
                assert_eq!(refused.len(), 1);
                assert_eq!(refused[0].0, "vmcore");
            }
            other => panic!("{other:?}"),
        }
    }

    // Done directories, empty directories and bookkeeping files are ignored.
    #[test]
    fn ignored() {
        let l = listing("202612041200", vec![file("dump.202612041200", 5, 1)]);
        assert!(matches!(
            decide(&l, NOW, QUIET, JournalVerdict::Done),
            Decision::Ignore { .. }
        ));
        let l = listing(
            "x",
            vec![file("kdump_lock", 0, 1), file("kexec_cmd", 10, 1)],
        );
        assert!(matches!(
            decide(&l, NOW, QUIET, JournalVerdict::Pending),
            Decision::Ignore { .. }
        ));
        assert!(matches!(
            decide(&listing("x", vec![]), NOW, QUIET, JournalVerdict::Pending),
            Decision::Ignore { .. }
        ));
        assert!(is_ignored_name(
            "linux-image-6.8.0-45-generic-202406090544.crash"
        ));
    }
}
