//! The Henmi-Copas interval against `tests/fixtures/hc.json` (written by
//! `tests/fixtures/generate_hc.R`, metafor 3.8-1):
//!
//! * `tight`: `hc.rma.uni`'s equations with `integrate(rel.tol = 1e-13)` and
//!   `uniroot(tol = 1e-15)`: every number at 1e-10 relative;
//! * `metafor_tol`: `hc(fit, control = list(tol = 1e-15))`, whose `integrate()` runs at its
//!   default `rel.tol = 1.2e-4` (not adjustable in `hc`): bounds at 2e-9 absolute, the
//!   accuracy it reached (its largest deviation from `tight` is 8.6e-10);
//! * `metafor`: `hc(fit)` with its default `uniroot` tolerance (1.2e-4): bounds at 1e-4
//!   absolute;
//! * the `rma` row (the model printed beside the interval) at 1e-10, and metafor's printed
//!   table for the BCG trials verbatim.

use std::collections::BTreeMap;

use metan::bias::HenmiCopas;
use metan::{MetaAnalysis, Method, Studies};
use serde_json::Value;

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
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
fn henmi_copas_matches_metafor() {
    let j: Value = serde_json::from_str(include_str!("../fixtures/hc.json")).unwrap();
    let mut data = BTreeMap::new();
    for d in j["datasets"].as_array().unwrap() {
        let s = Studies::from_variances(vec_f64(&d["yi"]), vec_f64(&d["vi"])).unwrap();
        data.insert(d["name"].as_str().unwrap().to_string(), s);
    }
    let cases = j["cases"].as_array().unwrap();
    assert!(data.len() >= 5 && cases.len() >= 10);
    let mut worst: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    let mut track = |what: &'static str, e: f64| {
        let w = worst.entry(what).or_insert((0, 0.0));
        w.0 += 1;
        w.1 = w.1.max(e);
    };
    for c in cases {
        let name = c["dataset"].as_str().unwrap();
        let method: Method = c["method"].as_str().unwrap().parse().unwrap();
        let level = c["level"].as_f64().unwrap();
        let spec = MetaAnalysis::new().method(method).level(level);
        let hc = HenmiCopas::new().run(&spec, &data[name]).unwrap();
        assert!(hc.converged(), "{name}: not converged");
        let t = &c["tight"];
        let (lo, hi) = hc.ci();
        for (field, mine) in [
            ("estimate", hc.estimate()),
            ("se", hc.se()),
            ("ci_lower", lo),
            ("ci_upper", hi),
            ("tau2", hc.tau2()),
            ("t0", hc.t0()),
        ] {
            let theirs = t[field].as_f64().unwrap();
            let e = rel(mine, theirs);
            let ok = e <= 1e-10 || (mine - theirs).abs() <= 1e-15;
            assert!(
                ok,
                "{name} {method} {level}: {field} metan {mine:e} tight {theirs:e} ({e:e})"
            );
            track(
                if field.starts_with("ci") {
                    "ci (tight)"
                } else {
                    "estimate/se/tau2/t0 (tight)"
                },
                e,
            );
        }
        for (mine, theirs) in [
            (lo, c["metafor_tol"]["ci_lower"].as_f64().unwrap()),
            (hi, c["metafor_tol"]["ci_upper"].as_f64().unwrap()),
        ] {
            let e = (mine - theirs).abs();
            assert!(
                e <= 2e-9,
                "{name}: metan {mine:e} hc(tol = 1e-15) {theirs:e}"
            );
            track("ci (metafor hc, tol 1e-15; absolute)", e);
        }
        for (mine, theirs) in [
            (lo, c["metafor"]["ci_lower"].as_f64().unwrap()),
            (hi, c["metafor"]["ci_upper"].as_f64().unwrap()),
        ] {
            assert!(
                (mine - theirs).abs() <= 1e-4,
                "{name}: metan {mine:e} hc() {theirs:e}"
            );
            track(
                "ci (metafor hc, default tol; absolute)",
                (mine - theirs).abs(),
            );
        }
        let r = &c["rma"];
        let (rlo, rhi) = hc.rma_ci();
        for (mine, field) in [
            (hc.rma_tau2(), "tau2"),
            (hc.rma_estimate(), "estimate"),
            (hc.rma_se(), "se"),
            (rlo, "ci_lower"),
            (rhi, "ci_upper"),
        ] {
            let theirs = r[field].as_f64().unwrap();
            assert!(
                rel(mine, theirs) <= 1e-10 || (mine - theirs).abs() < 1e-13,
                "{name}: rma {field} {mine:e} vs {theirs:e}"
            );
        }
        assert_eq!(hc.rma_method(), method);
    }
    for (what, (n, e)) in &worst {
        eprintln!("Henmi-Copas {what}: {n} numbers, worst error {e:.1e}");
    }
    // metafor's printed table
    let bcg = HenmiCopas::new()
        .run(&MetaAnalysis::new(), &data["bcg"])
        .unwrap();
    let want = j["printed_bcg"].as_str().unwrap();
    assert_eq!(
        bcg.to_string().trim_end_matches('\n'),
        want.trim_end_matches('\n')
    );
}

#[test]
fn henmi_copas_needs_two_studies() {
    let s = Studies::from_variances(vec![0.3], vec![0.1]).unwrap();
    let e = HenmiCopas::new().run(&MetaAnalysis::new(), &s).unwrap_err();
    assert!(
        matches!(
            e,
            metan::MetaError::TooFewStudies {
                needed: 2,
                found: 1,
                ..
            }
        ),
        "{e}"
    );
}
