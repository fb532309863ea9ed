//! makedumpfile's flattened format (`-F`, what Debian's kdump-tools writes), streamed.
//!
//! A flattened file is a 4096-byte header (`makedumpfile\0...`, type and version as
//! big-endian i64) and then records `(offset: i64 BE, size: i64 BE, data[size])` whose
//! offsets refer to the equivalent plain file; offset −1 ends the stream, and later records
//! may overwrite earlier ones. [`FlatIndex::build`] scans the record headers once (skipping
//! the data) into a sorted list of disjoint extents, last write winning; reads are then
//! served from the flattened file in place. Nothing is materialized.

use std::collections::BTreeMap;

/// The signature at the start of a flattened file.
pub(crate) const SIGNATURE: &[u8] = b"makedumpfile\0";
const HEADER_SIZE: usize = 4096;

/// A run of the plain file held contiguously at `pos` in the flattened file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extent {
    start: u64,
    len: u64,
    pos: u64,
}

/// Where each byte of the plain file is in the flattened file.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlatIndex {
    extents: Vec<Extent>,
}

impl FlatIndex {
    /// Scans the record headers of a flattened file. Returns the index and warnings (a
    /// stream cut short). Pure: `data` is the flattened file.
    pub(crate) fn build(data: &[u8]) -> Result<(FlatIndex, Vec<String>), String> {
        Self::scan(data.len(), |at, buf| {
            let avail = data.get(at..).unwrap_or_default();
            let n = avail.len().min(buf.len());
            buf[..n].copy_from_slice(&avail[..n]);
            n
        })
    }

    /// [`FlatIndex::build`] over positional reads of a file of `len` bytes: the record
    /// headers are read one by one, so the scan does not fault the whole map into memory.
    pub(crate) fn scan(
        len: usize,
        read_at: impl Fn(usize, &mut [u8]) -> usize,
    ) -> Result<(FlatIndex, Vec<String>), String> {
        let mut head = [0u8; 32];
        if len < HEADER_SIZE || read_at(0, &mut head) < 32 || !head.starts_with(SIGNATURE) {
            return Err("flattened header is missing or shorter than 4096 bytes".into());
        }
        let be = |at: usize| {
            let mut b = [0u8; 8];
            (read_at(at, &mut b) == 8).then(|| i64::from_be_bytes(b))
        };
        let (kind, version) = (be(16), be(24));
        if kind != Some(1) {
            return Err(format!("flattened header has type {kind:?}, not 1"));
        }
        let mut warnings = Vec::new();
        if version != Some(1) {
            warnings.push(format!(
                "flattened header version {version:?} is not 1; reading it anyway"
            ));
        }
        let mut map: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        let mut pos = HEADER_SIZE;
        let mut ended = false;
        let mut records = 0u64;
        while pos + 16 <= len {
            let (Some(offset), Some(size)) = (be(pos), be(pos + 8)) else {
                break;
            };
            if offset == -1 {
                ended = true;
                break;
            }
            if offset < 0 || size < 0 {
                return Err(format!(
                    "flattened record at byte {pos} has offset {offset} and size {size}"
                ));
            }
            let data_pos = pos + 16;
            let avail = (len - data_pos) as u64;
            let size = size as u64;
            if size > avail {
                warnings.push(format!(
                    "flattened stream is cut inside the record at byte {pos}: {} of its {size} bytes are missing",
                    size - avail
                ));
                insert(&mut map, offset as u64, avail, data_pos as u64);
                break;
            }
            insert(&mut map, offset as u64, size, data_pos as u64);
            records += 1;
            pos = data_pos + size as usize;
            if pos > len {
                break;
            }
        }
        if !ended && warnings.is_empty() {
            warnings.push(format!(
                "flattened stream ends after {records} records at byte {} without its end marker (truncated)",
                len
            ));
        }
        let mut extents: Vec<Extent> = Vec::with_capacity(map.len());
        for (start, (len, pos)) in map {
            match extents.last_mut() {
                Some(last) if last.start + last.len == start && last.pos + last.len == pos => {
                    last.len += len
                }
                _ => extents.push(Extent { start, len, pos }),
            }
        }
        Ok((FlatIndex { extents }, warnings))
    }

    /// Copies plain-file bytes at `off` into `buf` from the flattened `data`; returns how
    /// many were present (stops at the first byte no record wrote).
    pub(crate) fn read_at(&self, data: &[u8], off: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let at = off + done as u64;
            let i = self.extents.partition_point(|e| e.start <= at);
            let Some(e) = i.checked_sub(1).map(|i| self.extents[i]) else {
                break;
            };
            if at >= e.start + e.len {
                break;
            }
            let n = ((e.start + e.len - at) as usize).min(buf.len() - done);
            let from = (e.pos + (at - e.start)) as usize;
            let Some(src) = data.get(from..from + n) else {
                break;
            };
            buf[done..done + n].copy_from_slice(src);
            done += n;
        }
        done
    }

    /// The end of the highest extent: the size of the plain file.
    pub(crate) fn len(&self) -> u64 {
        self.extents.last().map_or(0, |e| e.start + e.len)
    }

    /// How many extents the index holds (its memory is 24 bytes each).
    #[cfg(test)]
    pub(crate) fn extent_count(&self) -> usize {
        self.extents.len()
    }
}

/// Records `[start, start+len)` at `pos`, trimming or removing what it overwrites.
fn insert(map: &mut BTreeMap<u64, (u64, u64)>, start: u64, len: u64, pos: u64) {
    if len == 0 {
        return;
    }
    let end = start.saturating_add(len);
    // An extent starting before `start` that reaches into it: keep its head, and its tail
    // if it also reaches past `end`.
    if let Some((&s, &(l, p))) = map.range(..start).next_back()
        && s + l > start
    {
        map.insert(s, (start - s, p));
        if s + l > end {
            map.insert(end, (s + l - end, p + (end - s)));
        }
    }
    let inside: Vec<u64> = map.range(start..end).map(|(&s, _)| s).collect();
    for s in inside {
        if let Some((l, p)) = map.remove(&s)
            && s + l > end
        {
            map.insert(end, (s + l - end, p + (end - s)));
        }
    }
    map.insert(start, (len, pos));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(records: &[(i64, &[u8])], end: bool) -> Vec<u8> {
        let mut out = vec![0u8; HEADER_SIZE];
        out[..SIGNATURE.len()].copy_from_slice(SIGNATURE);
        out[16..24].copy_from_slice(&1i64.to_be_bytes());
        out[24..32].copy_from_slice(&1i64.to_be_bytes());
        for (off, data) in records {
            out.extend_from_slice(&off.to_be_bytes());
            out.extend_from_slice(&(data.len() as i64).to_be_bytes());
            out.extend_from_slice(data);
        }
        if end {
            out.extend_from_slice(&(-1i64).to_be_bytes());
            out.extend_from_slice(&0i64.to_be_bytes());
        }
        out
    }

    // Checks that later records overwrite earlier ones, splitting what they cover.
    #[test]
    fn last_write_wins() {
        let data = flat(
            &[(0, b"aaaaaaaa"), (8, b"bbbb"), (2, b"XY"), (6, b"ZZZZ")],
            true,
        );
        let (index, warnings) = FlatIndex::build(&data).expect("index");
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut buf = [0u8; 12];
        assert_eq!(index.read_at(&data, 0, &mut buf), 12);
        assert_eq!(&buf, b"aaXYaaZZZZbb");
        assert_eq!(index.len(), 12);
        assert_eq!(index.extent_count(), 5);
    }

    // Checks that a stream without its end marker or cut inside a record warns and keeps what it has.
    #[test]
    fn truncated_streams_warn() {
        let data = flat(&[(0, b"abcd"), (100, b"efgh")], false);
        let (index, warnings) = FlatIndex::build(&data).expect("index");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let mut buf = [0u8; 8];
        assert_eq!(index.read_at(&data, 0, &mut buf), 4);
        let cut = &data[..data.len() - 2];
        let (index, warnings) = FlatIndex::build(cut).expect("index");
        assert!(warnings[0].contains("2 of its 4 bytes"), "{warnings:?}");
        assert_eq!(index.read_at(cut, 100, &mut buf), 2);
        assert!(FlatIndex::build(b"makedumpfile\0").is_err());
    }
}
