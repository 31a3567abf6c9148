//! Transcripts analysed per second: ~2,000-character calls built from the labelled corpus's
//! turns, on one core and on every core (`cargo bench -p daylight-qc`; `bench/qc.sh` prints the
//! figures for docs/qc.md).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use daylight_qc::{Analyzer, Rules, Transcript};

fn corpus() -> Vec<Transcript> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/qc");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).expect("tests/data/qc").filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let calls: Vec<Transcript> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "json"))
        .map(|f| Transcript::parse("x", &std::fs::read_to_string(f).expect("read")).expect("transcript"))
        .collect();
    // Each labelled call padded with the next calls' turns to ~2,000 characters.
    (0..calls.len())
        .map(|i| {
            let mut t = calls[i].clone();
            let mut j = i + 1;
            while t.turns.iter().map(|x| x.text.chars().count()).sum::<usize>() < 2_000 {
                let next = &calls[j % calls.len()];
                let base = t.turns.last().map_or(0, |x| x.end_ms);
                t.turns.extend(next.turns.iter().map(|x| {
                    let mut x = x.clone();
                    x.start_ms += base;
                    x.end_ms += base;
                    x
                }));
                j += 1;
            }
            t
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let calls = corpus();
    let analyzer = Analyzer::new(Rules::default_rules());
    let mut g = c.benchmark_group("qc");
    g.throughput(Throughput::Elements(calls.len() as u64));
    g.bench_function("analyze_one_core", |b| {
        b.iter(|| calls.iter().map(|t| analyzer.analyze(black_box(t)).findings.len()).sum::<usize>())
    });
    g.bench_function("analyze_two_threads", |b| {
        b.iter(|| {
            let half = calls.len() / 2;
            std::thread::scope(|s| {
                let a = s.spawn(|| {
                    calls[..half].iter().map(|t| analyzer.analyze(t).findings.len()).sum::<usize>()
                });
                let b2 = calls[half..].iter().map(|t| analyzer.analyze(t).findings.len()).sum::<usize>();
                a.join().expect("thread") + b2
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
