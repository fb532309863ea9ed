//! The logical bytes of a dump: the mapped file itself, or the plain file a flattened stream
//! describes. Every format reader reads through [`Src`].

use crate::flat::FlatIndex;

/// How the logical file is stored in the mapped one.
#[derive(Debug)]
pub(crate) enum Container {
    /// The file is the dump.
    Plain,
    /// The file is a makedumpfile flattened stream of the dump.
    Flat(FlatIndex),
}

/// The logical file: mapped bytes seen through their container.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Src<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) container: &'a Container,
}

impl<'a> Src<'a> {
    /// Copies the bytes at `off` into `buf`; returns how many exist (a short count means
    /// the file ends, or the flattened stream never wrote them).
    pub(crate) fn read_at(&self, off: u64, buf: &mut [u8]) -> usize {
        match self.container {
            Container::Plain => {
                let Ok(start) = usize::try_from(off) else {
                    return 0;
                };
                let Some(avail) = self.data.get(start..) else {
                    return 0;
                };
                let n = avail.len().min(buf.len());
                buf[..n].copy_from_slice(&avail[..n]);
                n
            }
            Container::Flat(index) => index.read_at(self.data, off, buf),
        }
    }

    /// Reads exactly `buf.len()` bytes or says how many were missing.
    pub(crate) fn read_exact(&self, off: u64, buf: &mut [u8]) -> Result<(), usize> {
        let n = self.read_at(off, buf);
        if n == buf.len() { Ok(()) } else { Err(n) }
    }

    /// Reads a little-endian integer of `N` bytes.
    pub(crate) fn le<const N: usize>(&self, off: u64) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        self.read_exact(off, &mut buf).ok().map(|_| buf)
    }

    /// The length of the logical file.
    pub(crate) fn len(&self) -> u64 {
        match self.container {
            Container::Plain => self.data.len() as u64,
            Container::Flat(index) => index.len(),
        }
    }

    /// The plain bytes when the file is not flattened (zero-copy parsing).
    pub(crate) fn plain(&self) -> Option<&'a [u8]> {
        match self.container {
            Container::Plain => Some(self.data),
            Container::Flat(_) => None,
        }
    }
}

/// `Read + Seek` over a [`Src`], so `object` can parse a flattened ELF through its
/// `ReadCache` (which keeps only what it was asked for: the headers and the notes).
#[derive(Debug)]
pub(crate) struct SrcReader<'a> {
    pub(crate) src: Src<'a>,
    pub(crate) pos: u64,
}

impl std::io::Read for SrcReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.src.read_at(self.pos, buf);
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for SrcReader<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let base = match to {
            std::io::SeekFrom::Start(p) => Some(p),
            std::io::SeekFrom::End(d) => self.src.len().checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = base.ok_or_else(|| std::io::Error::other("seek before the start"))?;
        Ok(self.pos)
    }
}
