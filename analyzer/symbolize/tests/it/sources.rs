//! Finding debug files: debug roots by build id and release, modules by release, the
//! object-store `SymbolSource`, debuginfod over a tiny local HTTP server, and the memory bound.

use crate::harness::{fixture, frame};
use crashsift_model::BuildId;
use crashsift_symbolize::{KernelRef, SymbolSource, Symbolizer, SymbolizerConfig};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn build_id_of(path: &Path) -> BuildId {
    crashsift_symbolize::elf::read_build_id(path)
        .expect("readable")
        .expect("build id")
}

fn bare_config() -> SymbolizerConfig {
    SymbolizerConfig {
        debug_roots: vec![],
        debuginfod_urls: vec![],
        ..SymbolizerConfig::default()
    }
}

// `<root>/.build-id/xx/rest.debug` is found by build id, `<root>/boot/vmlinux-<release>`
// by release, and `<root>/lib/modules/<release>/.../<mod>.ko` for modules (`-`/`_` folded).
#[test]
fn debug_roots_by_build_id_and_release() {
    let root = tempfile::tempdir().expect("tempdir");
    let v = fixture("vmlinux-dwarf5");
    let id = build_id_of(&v);
    let by_id = root
        .path()
        .join(".build-id")
        .join(&id.as_str()[..2])
        .join(format!("{}.debug", &id.as_str()[2..]));
    std::fs::create_dir_all(by_id.parent().expect("parent")).expect("mkdir");
    std::fs::copy(&v, &by_id).expect("copy");
    let cfg = SymbolizerConfig {
        debug_roots: vec![root.path().to_owned()],
        ..bare_config()
    };
    let s = Symbolizer::new(cfg.clone());
    let k = KernelRef {
        build_id: Some(id.clone()),
        ..KernelRef::default()
    };
    let r = s
        .symbolize_frame(&frame("outer+0x0/0x20", true), &k)
        .expect("found by build id");
    assert_eq!(r.object, by_id);

    let rel_root = tempfile::tempdir().expect("tempdir");
    let boot = rel_root.path().join("boot");
    std::fs::create_dir_all(&boot).expect("mkdir");
    std::fs::copy(fixture("vmlinux-dwarf4"), boot.join("vmlinux-6.1.0-test")).expect("copy");
    let mods = rel_root
        .path()
        .join("lib/modules/6.1.0-test/kernel/drivers");
    std::fs::create_dir_all(&mods).expect("mkdir");
    std::fs::copy(fixture("fixmod.ko"), mods.join("fix-mod.ko")).expect("copy");
    let s = Symbolizer::new(SymbolizerConfig {
        debug_roots: vec![rel_root.path().to_owned()],
        ..bare_config()
    });
    let k = KernelRef {
        release: Some("6.1.0-test".into()),
        ..KernelRef::default()
    };
    let r = s
        .symbolize_frame(&frame("outer+0x0/0x20", true), &k)
        .expect("found by release");
    assert_eq!(r.object, boot.join("vmlinux-6.1.0-test"));
    let m = s
        .symbolize_frame(&frame("mod_work+0x0/0x13 [fix_mod]", true), &k)
        .expect("module by release");
    assert_eq!(m.object, mods.join("fix-mod.ko"));
    // Nothing for another release: a clear error naming what was looked for.
    let other = KernelRef {
        release: Some("9.9".into()),
        ..KernelRef::default()
    };
    let e = s
        .symbolize_frame(&frame("outer+0x0/0x20", true), &other)
        .expect_err("missing");
    assert!(
        e.to_string().contains("no debug file found for vmlinux"),
        "{e}"
    );
}

/// An in-memory object store: key → local file, and what was put.
#[derive(Debug, Default)]
struct MemSource {
    files: HashMap<String, PathBuf>,
    puts: Mutex<Vec<(String, usize)>>,
    dir: PathBuf,
}

impl SymbolSource for MemSource {
    fn fetch(&self, key: &str) -> Result<Option<PathBuf>, String> {
        if let Some(p) = self.files.get(key) {
            return Ok(Some(p.clone()));
        }
        let put = self.dir.join(key.replace('/', "_"));
        Ok(put.is_file().then_some(put))
    }
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), String> {
        std::fs::write(self.dir.join(key.replace('/', "_")), bytes).map_err(|e| e.to_string())?;
        self.puts
            .lock()
            .map_err(|e| e.to_string())?
            .push((key.to_owned(), bytes.len()));
        Ok(())
    }
}

// The object-store prefix serves `symbols/<build-id>/debuginfo` and receives the index,
// which a second symbolizer (another process) then uses warm.
#[test]
fn symbol_source_serves_debuginfo_and_keeps_the_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = fixture("vmlinux-dwarf5");
    let id = build_id_of(&v);
    let mut files = HashMap::new();
    files.insert(format!("symbols/{id}/debuginfo"), v.clone());
    let src = Arc::new(MemSource {
        files,
        dir: dir.path().to_owned(),
        ..MemSource::default()
    });
    let idx = tempfile::tempdir().expect("tempdir");
    let cfg = SymbolizerConfig {
        symbol_source: Some(src.clone()),
        index_dir: Some(idx.path().to_owned()),
        ..bare_config()
    };
    let k = KernelRef {
        build_id: Some(id.clone()),
        ..KernelRef::default()
    };
    let r = Symbolizer::new(cfg)
        .symbolize_frame(&frame("outer+0x0/0x20", true), &k)
        .expect("from the source");
    assert_eq!(r.source.len(), 3);
    let puts = src.puts.lock().expect("lock").clone();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].0, format!("symbols/{id}/index-v1"));
    // A fresh symbolizer without a local index dir gets the index from the source.
    let cfg2 = SymbolizerConfig {
        symbol_source: Some(src.clone()),
        ..bare_config()
    };
    let r2 = Symbolizer::new(cfg2)
        .symbolize_frame(&frame("outer+0x0/0x20", true), &k)
        .expect("warm");
    assert_eq!(r.source, r2.source);
}

/// Serves `GET /buildid/<id>/debuginfo` for one id from `file`, 404 otherwise; counts hits.
fn serve(file: PathBuf, id: String) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(Mutex::new(0usize));
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).map_or(true, |n| n == 0) || l == "\r\n" {
                    break;
                }
            }
            *h.lock().expect("lock") += 1;
            let want = format!("GET /buildid/{id}/debuginfo ");
            if request.starts_with(&want) {
                let body = std::fs::read(&file).expect("fixture");
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(&body);
            } else {
                let _ = write!(
                    conn,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        }
    });
    (url, hits)
}

// debuginfod: the file is downloaded once into the cache, then served from it; an id the
// server lacks is an error naming the build id; an oversized answer is refused.
#[test]
fn debuginfod_download_and_cache() {
    let v = fixture("vmlinux-dwarf4");
    let id = build_id_of(&v);
    let (url, hits) = serve(v.clone(), id.to_string());
    let cache = tempfile::tempdir().expect("tempdir");
    let cfg = SymbolizerConfig {
        debuginfod_urls: vec![url.clone()],
        debuginfod_cache: Some(cache.path().to_owned()),
        ..bare_config()
    };
    let k = KernelRef {
        build_id: Some(id.clone()),
        ..KernelRef::default()
    };
    let r = Symbolizer::new(cfg.clone())
        .symbolize_frame(&frame("outer+0x0/0x20", true), &k)
        .expect("downloaded");
    assert_eq!(r.source.len(), 3);
    assert!(cache.path().join(id.as_str()).join("debuginfo").is_file());
    let before = *hits.lock().expect("lock");
    let again = Symbolizer::new(cfg.clone())
        .symbolize_frame(&frame("outer+0x0/0x20", true), &k)
        .expect("cached");
    assert_eq!(again.source, r.source);
    assert_eq!(*hits.lock().expect("lock"), before, "served from the cache");

    let missing = BuildId::parse("00112233445566778899aabbccddeeff00112233").expect("id");
    let k2 = KernelRef {
        build_id: Some(missing),
        ..KernelRef::default()
    };
    let e = Symbolizer::new(cfg)
        .symbolize_frame(&frame("outer+0x0/0x20", true), &k2)
        .expect_err("404");
    assert!(
        e.to_string()
            .contains("00112233445566778899aabbccddeeff00112233"),
        "{e}"
    );

    let small = crashsift_symbolize::debuginfod::Debuginfod {
        urls: vec![url],
        cache_dir: tempfile::tempdir().expect("tempdir").keep(),
        max_bytes: 100,
        timeout: std::time::Duration::from_secs(5),
    };
    let e = small.fetch_debuginfo(&id).expect_err("too big");
    assert!(e.contains("limit"), "{e}");
}

// The cache keeps at most what fits the memory bound (here: one object at a time).
#[test]
fn memory_bound_evicts() {
    let s = Symbolizer::new(SymbolizerConfig {
        memory_bound: 1,
        ..bare_config()
    });
    s.open(&fixture("vmlinux-dwarf4"), None).expect("open");
    s.open(&fixture("vmlinux-dwarf5"), None).expect("open");
    let _ = s.symbolize_addresses(&[0xffff_ffff_8100_0050], &KernelRef::default());
    assert_eq!(s.cached_objects(), 1);
    let roomy = Symbolizer::new(SymbolizerConfig {
        memory_bound: 1 << 30,
        ..bare_config()
    });
    roomy.open(&fixture("vmlinux-dwarf4"), None).expect("open");
    roomy.open(&fixture("vmlinux-dwarf5"), None).expect("open");
    let _ = roomy.symbolize_addresses(&[0xffff_ffff_8100_0050], &KernelRef::default());
    assert_eq!(roomy.cached_objects(), 2);
}
