//! Parse throughput on a large concatenated log: the fixture corpus (crash reports) mixed
//! into many copies of the rig's clean boot log (ordinary lines), about 40 MB, as a
//! production console log looks: mostly not crash lines.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::PathBuf;

fn big_log() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reports");
    let read = |name: &str| {
        String::from_utf8_lossy(&std::fs::read(dir.join(name)).expect("fixture")).into_owned()
    };
    let boot = read("variant-clean-boot.txt");
    let mut crashes: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).expect("read")).into_owned())
        .collect();
    crashes.sort();
    let mut out = String::with_capacity(42 << 20);
    let mut i = 0;
    while out.len() < 40 << 20 {
        out.push_str(&boot);
        // one crash log per 4 boot logs
        if i % 4 == 0 {
            out.push_str(&crashes[(i / 4) % crashes.len()]);
            out.push('\n');
        }
        i += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let log = big_log();
    let reports = crashsift_report::parse(&log).len();
    eprintln!("bench log: {} bytes, {} reports", log.len(), reports);
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10);
    g.bench_function("concatenated_40MB", |b| {
        b.iter(|| crashsift_report::parse(std::hint::black_box(&log)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
