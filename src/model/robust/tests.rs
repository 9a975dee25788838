//! Robust inference on the rma.mv fits of `tests/fixtures/robust.json`, built from the
//! fixture's per-cluster blocks (X_j, M_j, residuals, beta, bread): checks CR2 (SE,
//! Satterthwaite df, t, p, CI, vcov, HTZ / naive-F / chi-square Wald tests) against
//! clubSandwich 0.5.8 and CR1 against metafor 3.8-1's `robust()`, independently of any
//! rma.mv engine. `cargo test --release --lib robust -- --nocapture` prints the counts
//! and worst relative errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use nalgebra::{DMatrix, DVector};
use serde_json::Value;

use super::{ClusterBlock, ClusteredModel, RobustKind, Settings, WaldKind};

/// Relative tolerance where the inputs are exact (the fixture's blocks).
const REL: f64 = 1e-10;

fn fixture() -> &'static Value {
    use std::sync::OnceLock;
    static FX: OnceLock<Value> = OnceLock::new();
    FX.get_or_init(|| {
        serde_json::from_str(include_str!("../../../tests/fixtures/robust.json")).expect("parses")
    })
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn matrix(v: &Value) -> DMatrix<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(f64s).collect();
    let n = rows.len();
    let p = rows.first().map_or(0, Vec::len);
    DMatrix::from_fn(n, p, |r, c| rows[r][c])
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// The clustered model of an rma.mv fixture entry.
pub(crate) fn model_of(fit: &Value) -> ClusteredModel {
    let blocks = fit["blocks"].as_array().unwrap();
    let mut clusters = Vec::new();
    let mut cluster_names = Vec::new();
    for b in blocks {
        let m = matrix(&b["m"]);
        let w = m.clone().cholesky().unwrap().inverse();
        let rows: Vec<usize> = f64s(&b["rows"]).iter().map(|&r| r as usize).collect();
        clusters.push(ClusterBlock {
            rows,
            x: matrix(&b["x"]),
            w,
            working: m,
            e: DVector::from_vec(f64s(&b["e"])),
        });
        cluster_names.push(b["cluster"].as_str().unwrap().to_string());
    }
    ClusteredModel {
        names: strings(&fit["names"]),
        beta: DVector::from_vec(f64s(&fit["beta"])),
        bread: matrix(&fit["bread"]),
        clusters,
        cluster_names,
    }
}

fn rel_err(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

pub(crate) struct Checker {
    rel: f64,
    pub checked: usize,
    pub failures: Vec<String>,
    pub worst: BTreeMap<String, (f64, String)>,
}

impl Checker {
    pub fn new(rel: f64) -> Self {
        Checker {
            rel,
            checked: 0,
            failures: Vec::new(),
            worst: BTreeMap::new(),
        }
    }

    pub fn num(&mut self, family: &str, what: &str, ours: f64, theirs: f64) {
        self.checked += 1;
        let e = rel_err(ours, theirs);
        let slot = self
            .worst
            .entry(family.to_string())
            .or_insert((0.0, String::new()));
        if e > slot.0 || e.is_nan() {
            *slot = (e, what.to_string());
        }
        if !(e <= self.rel) {
            self.failures.push(format!(
                "{what}: metan {ours:e} vs reference {theirs:e} (rel {e:e})"
            ));
        }
    }

    pub fn nums(&mut self, family: &str, what: &str, ours: &[f64], theirs: &[f64]) {
        assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
        for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
            self.num(family, &format!("{what}[{i}]"), *a, *b);
        }
    }

    pub fn report(&self, title: &str) {
        println!("{title}: {} numbers compared", self.checked);
        for (fam, (e, what)) in &self.worst {
            println!("  worst relative error {fam:<14} {e:.2e}  ({what})");
        }
        assert!(
            self.failures.is_empty(),
            "{} of {} beyond {:e}:\n{}",
            self.failures.len(),
            self.checked,
            self.rel,
            self.failures.join("\n")
        );
    }
}

fn wald_kind(name: &str) -> WaldKind {
    match name {
        "HTZ" => WaldKind::Htz,
        "Naive-F" => WaldKind::NaiveF,
        "Naive-Fp" => WaldKind::NaiveFp,
        "chi-sq" => WaldKind::ChiSquare,
        other => panic!("unknown test {other}"),
    }
}

/// Compares a CR2 fit with the fixture's clubSandwich results.
pub(crate) fn check_cr2(ck: &mut Checker, name: &str, fit: &super::RobustFit, cs: &Value) {
    let c = fit.coefficients();
    let get =
        |f: &dyn Fn(&crate::model::Coefficient) -> f64| -> Vec<f64> { c.iter().map(f).collect() };
    assert_eq!(fit.names(), strings(&cs["names"]), "{name}: names");
    ck.nums(
        "CR2 estimate",
        &format!("{name} estimate"),
        &get(&|c| c.estimate),
        &f64s(&cs["estimate"]),
    );
    ck.nums(
        "CR2 se",
        &format!("{name} se"),
        &get(&|c| c.se),
        &f64s(&cs["se"]),
    );
    ck.nums(
        "CR2 t",
        &format!("{name} t"),
        &get(&|c| c.statistic),
        &f64s(&cs["tstat"]),
    );
    ck.nums(
        "CR2 df",
        &format!("{name} df"),
        &get(&|c| c.df.unwrap()),
        &f64s(&cs["df"]),
    );
    ck.nums(
        "CR2 p",
        &format!("{name} p"),
        &get(&|c| c.p_value),
        &f64s(&cs["p_value"]),
    );
    ck.nums(
        "CR2 CI",
        &format!("{name} ci.lb"),
        &get(&|c| c.ci_lower),
        &f64s(&cs["ci_lower"]),
    );
    ck.nums(
        "CR2 CI",
        &format!("{name} ci.ub"),
        &get(&|c| c.ci_upper),
        &f64s(&cs["ci_upper"]),
    );
    let vc = matrix(&cs["vcov"]);
    for (i, row) in fit.vcov().iter().enumerate() {
        assert_eq!(row.len(), vc.ncols());
        for (j, v) in row.iter().enumerate() {
            ck.num("CR2 vcov", &format!("{name} vcov[{i},{j}]"), *v, vc[(i, j)]);
        }
    }
    // an fit without tests has `[]` (R's empty list)
    let empty = serde_json::Map::new();
    for (label, w) in cs["wald"].as_object().unwrap_or(&empty) {
        let cmat: Vec<Vec<f64>> = w["constraints"]
            .as_array()
            .unwrap()
            .iter()
            .map(f64s)
            .collect();
        for (test, r) in w["tests"].as_object().unwrap() {
            let t = fit.wald_test_as(&cmat, wald_kind(test)).unwrap();
            let fam = format!("Wald {test}");
            let what = format!("{name} {label} {test}");
            ck.num(
                &fam,
                &format!("{what} F"),
                t.statistic,
                r["Fstat"].as_f64().unwrap(),
            );
            ck.num(
                &fam,
                &format!("{what} delta"),
                t.delta,
                r["delta"].as_f64().unwrap(),
            );
            ck.num(
                &fam,
                &format!("{what} df_num"),
                t.df_num,
                r["df_num"].as_f64().unwrap(),
            );
            match (t.df_denom, r["df_denom"].as_f64()) {
                (Some(a), Some(b)) => ck.num(&fam, &format!("{what} df_denom"), a, b),
                (None, None) => {}
                (a, b) => panic!("{what}: df_denom {a:?} vs {b:?}"),
            }
            match (t.p_value, r["p_val"].as_f64()) {
                (Some(a), Some(b)) => ck.num(&fam, &format!("{what} p"), a, b),
                (None, None) => {}
                (a, b) => panic!("{what}: p {a:?} vs {b:?}"),
            }
        }
    }
}

/// Compares a CR1 fit with the fixture's metafor `robust()` results.
pub(crate) fn check_cr1(ck: &mut Checker, name: &str, fit: &super::RobustFit, mf: &Value) {
    let c = fit.coefficients();
    let get =
        |f: &dyn Fn(&crate::model::Coefficient) -> f64| -> Vec<f64> { c.iter().map(f).collect() };
    ck.nums(
        "CR1 se",
        &format!("{name} se"),
        &get(&|c| c.se),
        &f64s(&mf["se"]),
    );
    ck.nums(
        "CR1 t",
        &format!("{name} t"),
        &get(&|c| c.statistic),
        &f64s(&mf["tval"]),
    );
    let df = mf["df"].as_f64().unwrap();
    for c in c {
        assert_eq!(c.df, Some(df), "{name}: CR1 df");
    }
    ck.nums(
        "CR1 p",
        &format!("{name} p"),
        &get(&|c| c.p_value),
        &f64s(&mf["p_value"]),
    );
    ck.nums(
        "CR1 CI",
        &format!("{name} ci.lb"),
        &get(&|c| c.ci_lower),
        &f64s(&mf["ci_lower"]),
    );
    ck.nums(
        "CR1 CI",
        &format!("{name} ci.ub"),
        &get(&|c| c.ci_upper),
        &f64s(&mf["ci_upper"]),
    );
    let vc = matrix(&mf["vcov"]);
    for (i, row) in fit.vcov().iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            ck.num("CR1 vcov", &format!("{name} vcov[{i},{j}]"), *v, vc[(i, j)]);
        }
    }
    if let Some(w) = fit.omnibus() {
        if c.len() > 1 {
            ck.num(
                "CR1 QM",
                &format!("{name} QM"),
                w.statistic,
                mf["qm"].as_f64().unwrap(),
            );
            ck.num(
                "CR1 QM",
                &format!("{name} QMp"),
                w.p_value.unwrap(),
                mf["qm_p_value"].as_f64().unwrap(),
            );
            let qdf = f64s(&mf["qm_df"]);
            assert_eq!(
                (w.df_num, w.df_denom),
                (qdf[0], Some(qdf[1])),
                "{name}: QM df"
            );
        }
    }
}

#[test]
fn mv_blocks_match_clubsandwich_and_metafor() {
    let mut ck = Checker::new(REL);
    let mut fits = 0;
    for f in fixture()["mv"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let model = model_of(f);
        let cr2 = model.robust(&Settings::new(RobustKind::CR2, 95.0)).unwrap();
        check_cr2(&mut ck, name, &cr2, &f["cr2"]);
        let cr1 = model.robust(&Settings::new(RobustKind::CR1, 95.0)).unwrap();
        check_cr1(&mut ck, name, &cr1, &f["cr1"]);
        fits += 1;
    }
    assert!(fits >= 16);
    ck.report(&format!(
        "rma.mv blocks ({fits} fits), CR2 vs clubSandwich, CR1 vs metafor"
    ));
}
