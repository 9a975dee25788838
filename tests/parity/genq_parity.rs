//! The generalized-Q (GENQ) confidence interval for tau^2 (Jackson 2013) against
//! `tests/fixtures/genq.json` (written by `tests/fixtures/generate_genq.R`): the data sets
//! of `core.json` with weights `1/sqrt(vi)` and SIMULATED data sets with random weights.
//!
//! * `tight`: metafor 3.8-1's `confint(type = "GENQ")` algorithm (same boundary rules) with
//!   `uniroot(tol = 1e-15)` on a reference distribution function written in R (Imhof's
//!   integral by `integrate()`, `tests/fixtures/imhof.R`): compared at 1e-9 relative.
//! * `metafor`: metafor's own `confint()` (through a stand-in `CompQuadForm::farebrother`
//!   computed by the same reference, CompQuadForm not being packaged in Debian). metafor
//!   calls `uniroot` without `tol` here, so its bounds are only as good as uniroot's
//!   default `tol = .Machine$double.eps^0.25` (1.2e-4 absolute in tau^2): compared at
//!   `1.25e-4 + 1e-12 |tau^2|` absolute, the tolerance metafor reached.

use metan::{MetaAnalysis, Method, Studies};
use serde_json::Value;

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

#[test]
fn genq_interval_matches_metafor_algorithm() {
    let j: Value = serde_json::from_str(include_str!("../fixtures/genq.json")).unwrap();
    let cases = j["intervals"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let (mut n, mut worst, mut worst_at) = (0usize, 0.0f64, String::new());
    let (mut n_mf, mut worst_mf) = (0usize, 0.0f64);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let yi = vec_f64(&c["yi"]);
        let vi = vec_f64(&c["vi"]);
        let w = vec_f64(&c["weights"]);
        let s = Studies::from_variances(yi, vi).unwrap();
        let fit = MetaAnalysis::new()
            .method(Method::GENQ)
            .weights(w)
            .fit(&s)
            .unwrap();
        assert!(
            !fit.warnings()
                .iter()
                .any(|w| w.contains("confidence interval")),
            "{name}: warnings {:?}",
            fit.warnings()
        );
        assert!(
            rel(fit.tau2(), c["tau2"].as_f64().unwrap()) < 1e-12,
            "{name}: tau2"
        );
        let (lo, hi) = fit
            .heterogeneity()
            .tau2_ci()
            .unwrap_or_else(|| panic!("{name}: no GENQ interval"));
        let t = &c["tight"];
        for (what, mine, theirs) in [
            ("lower", lo, t["lower"].as_f64().unwrap()),
            ("upper", hi, t["upper"].as_f64().unwrap()),
        ] {
            let e = rel(mine, theirs);
            assert!(
                e < 1e-9 || (mine - theirs).abs() < 1e-13,
                "{name} {what}: metan {mine:e} reference {theirs:e} ({e:e})"
            );
            n += 1;
            if e > worst {
                worst = e;
                worst_at = format!("{name} {what}");
            }
        }
        let signs = fit.heterogeneity().tau2_ci_signs();
        for (what, mine, theirs) in [
            ("lb", signs.0, t["lb_sign"].as_str().unwrap()),
            ("ub", signs.1, t["ub_sign"].as_str().unwrap()),
        ] {
            assert_eq!(
                mine.unwrap_or(""),
                theirs,
                "{name}: {what}.sign metan {mine:?} metafor {theirs:?}"
            );
        }
        if let Some(m) = c["metafor"].as_object() {
            for (mine, theirs) in [
                (lo, m["lower"].as_f64().unwrap()),
                (hi, m["upper"].as_f64().unwrap()),
            ] {
                let d = (mine - theirs).abs();
                assert!(
                    d <= 1.25e-4 + 1e-12 * theirs.abs(),
                    "{name}: metan {mine:e} metafor's confint {theirs:e}"
                );
                n_mf += 1;
                worst_mf = worst_mf.max(d);
            }
        }
    }
    eprintln!(
        "GENQ interval: {n} bounds on {} data sets, worst rel. error vs the tight reference {worst:.1e} ({worst_at}); \
         vs metafor's own confint (uniroot tol 1.2e-4): {n_mf} bounds, worst abs. difference {worst_mf:.1e}",
        cases.len()
    );
}
