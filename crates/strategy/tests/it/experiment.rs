//! Experiments: stable, uniform assignment and textbook sample sizes.

use daylight_strategy::experiment::{Arms, sample_size, unit_hash};

/// The hash is SHA-256's first eight bytes of salt ‖ 0 ‖ id (checked against Python's hashlib),
/// so an arm never changes between runs, hosts or releases.
#[test]
fn assignment_is_stable() {
    assert_eq!(unit_hash("daylight-2026", "C0001"), 0x8ca0_ba4a_1355_4c2e);
    assert_eq!(unit_hash("daylight-2026", "客户甲"), 0x6120_7a19_489b_91b6);
    let arms = Arms::parse("champion:45,challenger:45,holdout:10").unwrap();
    let of = |id: &str| arms.assign("daylight-2026", id).name.clone();
    assert_eq!(of("C0001"), "challenger");
    assert_eq!(of("C0008"), "champion");
    assert_eq!(of("C0037"), "holdout");
    assert_eq!(of("客户甲"), "champion");
    // Another salt reshuffles.
    let moved = (0..1000).filter(|i| {
        let id = format!("C{i:05}");
        arms.assign("daylight-2026", &id).name != arms.assign("other", &id).name
    });
    assert!(moved.count() > 400);
}

/// 100,000 ids into ten equal arms: the chi-square statistic stays below the 0.999 quantile of
/// χ²(9), 27.88; and 45/45/10 arms get their shares within 1 %.
#[test]
fn assignment_is_uniform() {
    let ten = Arms::parse("a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1,j:1").unwrap();
    let mut counts = [0u64; 10];
    let n = 100_000;
    for i in 0..n {
        let arm = ten.assign("uniformity", &format!("62284800{i:010}"));
        counts[(arm.name.as_bytes()[0] - b'a') as usize] += 1;
    }
    let expected = n as f64 / 10.0;
    let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    assert!(chi2 < 27.88, "chi-square {chi2} for {counts:?}");

    let arms = Arms::parse("champion:45,challenger:45,holdout:10").unwrap();
    let holdout = (0..n).filter(|i| arms.assign("s", &i.to_string()).name == "holdout").count();
    assert!((holdout as f64 / n as f64 - 0.10).abs() < 0.01, "{holdout}");
}

/// Per-arm sizes against textbook values of n = 2σ²(z₁₋α/₂ + z₁₋β)²/δ².
#[test]
fn sample_sizes_match_textbook_values() {
    // Standardised effect 0.5, α 0.05, power 0.8: 63 per group (62.79 rounded up).
    assert_eq!(sample_size(1.0, 0.5, 0.05, 0.8).unwrap().per_arm, 63);
    // Effect 1 SD, power 0.9: 22 (21.01).
    assert_eq!(sample_size(1.0, 1.0, 0.05, 0.9).unwrap().per_arm, 22);
    // σ 10, δ 5, power 0.9: 85 (84.06).
    assert_eq!(sample_size(10.0, 5.0, 0.05, 0.9).unwrap().per_arm, 85);
    // The requirements' example: σ 0.18, δ 0.05 → 204 (203.4).
    let s = sample_size(0.18, 0.05, 0.05, 0.8).unwrap();
    assert_eq!(s.per_arm, 204);
    assert!((s.z_alpha - 1.959_964).abs() < 1e-6 && (s.z_beta - 0.841_621).abs() < 1e-6);
    // α 0.01: z 2.5758 → 2·(2.5758+0.8416)²/0.25 = 93.4 → 94.
    assert_eq!(sample_size(1.0, 0.5, 0.01, 0.8).unwrap().per_arm, 94);
    for (s, d, a, p) in
        [(0.0, 1.0, 0.05, 0.8), (1.0, -1.0, 0.05, 0.8), (1.0, 1.0, 1.0, 0.8), (1.0, 1.0, 0.05, 0.0)]
    {
        assert_eq!(sample_size(s, d, a, p).unwrap_err().code, "EXPERIMENT_SIZE");
    }
}
