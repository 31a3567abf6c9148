//! Decisions per second with 30 days of history (about 3 attempts a day), on the workload of
//! `daylight_compliance::workload`: 64 requests over a working day, allowed and denied.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use daylight_compliance::workload::{history, requests};
use daylight_compliance::{Pack, evaluate};
use jiff::Timestamp;

fn decisions(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    for name in ["cn-default", "cn-cba-2026", "us-reg-f"] {
        let pack = Pack::shipped(name).unwrap();
        let hist = history(&pack, 30, 3);
        let reqs = requests(&pack, 64);
        group.throughput(Throughput::Elements(reqs.len() as u64));
        group.bench_function(format!("{name}/30d-history"), |b| {
            b.iter(|| {
                for r in &reqs {
                    std::hint::black_box(evaluate(
                        &pack,
                        std::hint::black_box(r),
                        &hist,
                        Timestamp::UNIX_EPOCH,
                    ));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
