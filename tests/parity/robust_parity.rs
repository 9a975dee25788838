//! Parity of cluster-robust inference, robumeta's RVE and aggregation with R, against
//! `tests/fixtures/robust.json` (written by `tests/fixtures/generate_robust.R`):
//!
//! * univariate fits given a cluster (metan's `MetaAnalysis` / `MetaRegression` fits of the
//!   fixture's data, then [`MetaFit::robust`] / [`MetaRegressionFit::robust`]): CR2 against
//!   clubSandwich 0.5.8 (`coef_test`, `conf_int`, `Wald_test` HTZ / Naive-F / Naive-Fp /
//!   chi-sq, and their printed tables), CR1 against metafor 3.8-1's `robust()` (and its
//!   printed cluster-robust block). End to end: tau^2 is metan's own estimate, which agrees
//!   with metafor's to ~1e-12, so the tolerance is 1e-8 relative;
//! * robumeta 2.0's `robu()` (CORR with rho 0, 0.5, 0.8, 1; HIER; small = TRUE / FALSE;
//!   with and without moderators) and its printed output. robumeta's p-values are
//!   `2 * (1 - pt(|t|, df))`, which loses relative precision in the tail: metan is compared
//!   with the fixture's `2 * pt(|t|, df, lower.tail = FALSE)` of robumeta's own t and df;
//! * metafor's `aggregate.escalc` (struct CS with rho 0, 0.5, 0.8, -0.1; ID; unweighted).
//!
//! The rma.mv fits of the fixture are checked inside the crate (`src/model/robust/tests.rs`,
//! from their exported per-cluster blocks). `-- --nocapture` prints counts and worst errors.

use std::collections::BTreeMap;

use metan::data::{Aggregate, Studies};
use metan::{
    Coefficient, MetaAnalysis, MetaRegression, Method, Robu, RobuWeights, RobustFit, RobustKind,
    TestKind, WaldKind,
};
use serde_json::Value;

const REL: f64 = 1e-8;

fn fixture() -> &'static Value {
    use std::sync::OnceLock;
    static FX: OnceLock<Value> = OnceLock::new();
    FX.get_or_init(|| {
        serde_json::from_str(include_str!("../fixtures/robust.json")).expect("parses")
    })
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// The studies of a fixture data set, with clusters and moderators.
fn studies(name: &str) -> Studies {
    let ds = &fixture()["datasets"][name];
    let mut s = Studies::from_variances(f64s(&ds["yi"]), f64s(&ds["vi"]))
        .unwrap()
        .with_clusters(strings(&ds["cluster"]))
        .unwrap();
    for (n, v) in entries(&ds["numeric"]) {
        s = s.with_moderator(n.clone(), f64s(v)).unwrap();
    }
    for (n, v) in entries(&ds["categorical"]) {
        s = s.with_attribute(n.clone(), strings(v)).unwrap();
    }
    s
}

/// The entries of a JSON object (R writes an empty named list as `[]`).
fn entries(v: &Value) -> Vec<(&String, &Value)> {
    v.as_object()
        .map(|o| o.iter().collect())
        .unwrap_or_default()
}

fn rel_err(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

struct Checker {
    rel: f64,
    checked: usize,
    failures: Vec<String>,
    worst: BTreeMap<String, (f64, String)>,
}

impl Checker {
    fn new(rel: f64) -> Self {
        Checker {
            rel,
            checked: 0,
            failures: Vec::new(),
            worst: BTreeMap::new(),
        }
    }
    fn num(&mut self, family: &str, what: &str, ours: f64, theirs: f64) {
        self.checked += 1;
        let e = rel_err(ours, theirs);
        let slot = self
            .worst
            .entry(family.into())
            .or_insert((0.0, String::new()));
        if e > slot.0 || e.is_nan() {
            *slot = (e, what.to_string());
        }
        // (NaN fails too)
        if e.is_nan() || e > self.rel {
            self.failures.push(format!(
                "{what}: metan {ours:e} vs R {theirs:e} (rel {e:e})"
            ));
        }
    }
    fn nums(&mut self, family: &str, what: &str, ours: &[f64], theirs: &[f64]) {
        assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
        for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
            self.num(family, &format!("{what}[{i}]"), *a, *b);
        }
    }
    fn text(&mut self, what: &str, ours: &str, theirs: &str) {
        self.checked += 1;
        if ours != theirs {
            self.failures.push(format!(
                "{what}: printed output differs\n--- metan\n{ours}\n--- R\n{theirs}"
            ));
        }
    }
    fn report(&self, title: &str) {
        println!("{title}: {} numbers and texts compared", self.checked);
        for (fam, (e, what)) in &self.worst {
            println!("  worst relative error {fam:<16} {e:.2e}  ({what})");
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

fn col(c: &[Coefficient], f: impl Fn(&Coefficient) -> f64) -> Vec<f64> {
    c.iter().map(f).collect()
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

fn check_cr2(ck: &mut Checker, name: &str, fit: &RobustFit, cs: &Value) {
    let c = fit.coefficients();
    assert_eq!(fit.names(), strings(&cs["names"]), "{name}");
    ck.nums(
        "CR2 se",
        &format!("{name} se"),
        &col(c, |c| c.se),
        &f64s(&cs["se"]),
    );
    ck.nums(
        "CR2 t",
        &format!("{name} t"),
        &col(c, |c| c.statistic),
        &f64s(&cs["tstat"]),
    );
    ck.nums(
        "CR2 df",
        &format!("{name} df"),
        &col(c, |c| c.df.unwrap()),
        &f64s(&cs["df"]),
    );
    ck.nums(
        "CR2 p",
        &format!("{name} p"),
        &col(c, |c| c.p_value),
        &f64s(&cs["p_value"]),
    );
    ck.nums(
        "CR2 CI",
        &format!("{name} lb"),
        &col(c, |c| c.ci_lower),
        &f64s(&cs["ci_lower"]),
    );
    ck.nums(
        "CR2 CI",
        &format!("{name} ub"),
        &col(c, |c| c.ci_upper),
        &f64s(&cs["ci_upper"]),
    );
    let vc: Vec<Vec<f64>> = cs["vcov"].as_array().unwrap().iter().map(f64s).collect();
    assert_eq!(fit.vcov().len(), vc.len());
    for (i, (a, b)) in fit.vcov().iter().zip(&vc).enumerate() {
        ck.nums("CR2 vcov", &format!("{name} vcov[{i}]"), a, b);
    }
    // printed: coef_test, conf_int and (with moderators) the HTZ test of them
    let mut expected = format!(
        "{}\n\n{}\n",
        cs["printed_coef_test"].as_str().unwrap(),
        cs["printed_conf_int"].as_str().unwrap()
    );
    let walds = entries(&cs["wald"]);
    if let Some((_, w)) = walds.iter().find(|(k, _)| k.as_str() == "moderators") {
        expected.push_str(&format!("\n{}\n", w["printed_htz"].as_str().unwrap()));
    }
    ck.text(&format!("{name} CR2 print"), &fit.to_string(), &expected);
    for (label, w) in walds {
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
            if let (Some(a), Some(b)) = (t.df_denom, r["df_denom"].as_f64()) {
                ck.num(&fam, &format!("{what} df_denom"), a, b);
            } else {
                assert_eq!(t.df_denom.is_none(), r["df_denom"].is_null(), "{what}");
            }
            ck.num(
                &fam,
                &format!("{what} p"),
                t.p_value.unwrap(),
                r["p_val"].as_f64().unwrap(),
            );
        }
    }
}

fn check_cr1(ck: &mut Checker, name: &str, fit: &RobustFit, mf: &Value) {
    let c = fit.coefficients();
    ck.nums(
        "CR1 se",
        &format!("{name} se"),
        &col(c, |c| c.se),
        &f64s(&mf["se"]),
    );
    ck.nums(
        "CR1 t",
        &format!("{name} t"),
        &col(c, |c| c.statistic),
        &f64s(&mf["tval"]),
    );
    for c in c {
        assert_eq!(c.df, mf["df"].as_f64(), "{name}: df");
    }
    ck.nums(
        "CR1 p",
        &format!("{name} p"),
        &col(c, |c| c.p_value),
        &f64s(&mf["p_value"]),
    );
    ck.nums(
        "CR1 CI",
        &format!("{name} lb"),
        &col(c, |c| c.ci_lower),
        &f64s(&mf["ci_lower"]),
    );
    ck.nums(
        "CR1 CI",
        &format!("{name} ub"),
        &col(c, |c| c.ci_upper),
        &f64s(&mf["ci_upper"]),
    );
    if c.len() > 1 {
        let w = fit.omnibus().unwrap();
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
    }
    // metafor's print from "Number of estimates" on
    let printed = mf["printed"].as_str().unwrap();
    let from = printed.find("Number of estimates").unwrap();
    ck.text(
        &format!("{name} CR1 print"),
        fit.to_string().trim_end(),
        printed[from..].trim_end(),
    );
}

#[test]
fn univariate_fits_with_clusters_match_clubsandwich_and_metafor() {
    let mut ck = Checker::new(REL);
    let mut n = 0;
    for u in fixture()["uni"].as_array().unwrap() {
        let name = u["name"].as_str().unwrap();
        let s = studies(u["dataset"].as_str().unwrap());
        let method: Method = u["method"].as_str().unwrap().parse().unwrap();
        let test: TestKind = u["test"].as_str().unwrap().parse().unwrap();
        let level = u["level"].as_f64().unwrap();
        let mods = strings(&u["mods"]);
        let (cr2, cr1) = if mods.is_empty() {
            let fit = MetaAnalysis::new()
                .method(method)
                .test(test)
                .level(level)
                .fit(&s)
                .unwrap();
            ck.num(
                "tau2 (fit)",
                &format!("{name} tau2"),
                fit.tau2(),
                u["tau2"].as_f64().unwrap(),
            );
            (
                fit.robust(&s, RobustKind::CR2).unwrap(),
                fit.robust(&s, RobustKind::CR1).unwrap(),
            )
        } else {
            let fit = MetaRegression::new()
                .moderators(mods)
                .method(method)
                .test(test)
                .level(level)
                .fit(&s)
                .unwrap();
            ck.num(
                "tau2 (fit)",
                &format!("{name} tau2"),
                fit.tau2(),
                u["tau2"].as_f64().unwrap(),
            );
            (
                fit.robust(&s, RobustKind::CR2).unwrap(),
                fit.robust(&s, RobustKind::CR1).unwrap(),
            )
        };
        assert_eq!(cr2.clusters() as f64, u["clusters"].as_f64().unwrap());
        check_cr2(&mut ck, name, &cr2, &u["cr2"]);
        check_cr1(&mut ck, name, &cr1, &u["cr1"]);
        n += 1;
    }
    assert!(n >= 14);
    ck.report(&format!(
        "univariate fits with clusters ({n}): CR2 vs clubSandwich, CR1 vs metafor"
    ));
}

#[test]
fn robu_matches_robumeta() {
    let mut ck = Checker::new(REL);
    let mut n = 0;
    for r in fixture()["robu"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let s = studies(r["dataset"].as_str().unwrap());
        let weights: RobuWeights = r["weights"].as_str().unwrap().parse().unwrap();
        let fit = Robu::new()
            .weights(weights)
            .rho(r["rho"].as_f64().unwrap())
            .small(r["small"].as_bool().unwrap())
            .moderators(strings(&r["mods"]))
            .fit(&s)
            .unwrap();
        let c = fit.coefficients();
        let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, strings(&r["labels"]), "{name}");
        let fam = format!("robu {weights}");
        ck.nums(
            &fam,
            &format!("{name} b"),
            &col(c, |c| c.estimate),
            &f64s(&r["estimate"]),
        );
        ck.nums(
            &fam,
            &format!("{name} se"),
            &col(c, |c| c.se),
            &f64s(&r["se"]),
        );
        ck.nums(
            &fam,
            &format!("{name} t"),
            &col(c, |c| c.statistic),
            &f64s(&r["t"]),
        );
        ck.nums(
            &format!("{fam} df"),
            &format!("{name} df"),
            &col(c, |c| c.df.unwrap()),
            &f64s(&r["df"]),
        );
        ck.nums(
            &fam,
            &format!("{name} p"),
            &col(c, |c| c.p_value),
            &f64s(&r["p_value"]),
        );
        ck.nums(
            &fam,
            &format!("{name} lb"),
            &col(c, |c| c.ci_lower),
            &f64s(&r["ci_lower"]),
        );
        ck.nums(
            &fam,
            &format!("{name} ub"),
            &col(c, |c| c.ci_upper),
            &f64s(&r["ci_upper"]),
        );
        ck.num(
            &format!("{fam} tau2"),
            &format!("{name} tau2"),
            fit.tau2(),
            r["tau2"].as_f64().unwrap(),
        );
        match weights {
            RobuWeights::Hier => ck.num(
                &format!("{fam} omega2"),
                &format!("{name} omega2"),
                fit.omega2().unwrap(),
                r["omega2"].as_f64().unwrap(),
            ),
            RobuWeights::Corr => {
                assert_eq!(fit.omega2(), None);
                ck.num(
                    &fam,
                    &format!("{name} I2"),
                    fit.i2().unwrap(),
                    r["i2"].as_f64().unwrap(),
                );
            }
        }
        assert_eq!(fit.clusters() as f64, r["n_clusters"].as_f64().unwrap());
        assert_eq!(fit.k() as f64, r["k"].as_f64().unwrap());
        ck.text(
            &format!("{name} print"),
            fit.to_string().trim_end(),
            r["printed"].as_str().unwrap().trim_end(),
        );
        n += 1;
    }
    assert!(n >= 30);
    ck.report(&format!("robumeta robu() ({n} fits)"));
}

#[test]
fn aggregate_matches_metafor() {
    // exact inputs: 1e-10 relative (metafor inverts V_j with chol2inv and multiplies;
    // metan solves with the Cholesky factor: a weighted mean of ~1e-5 from effects of ~1
    // differs by 1e-11 relative)
    let mut ck = Checker::new(1e-10);
    let mut n = 0;
    for a in fixture()["aggregate"].as_array().unwrap() {
        let name = a["name"].as_str().unwrap();
        let s = studies(a["dataset"].as_str().unwrap());
        let agg = match a["struct"].as_str().unwrap() {
            "CS" => Aggregate::compound_symmetry(a["rho"].as_f64().unwrap()),
            "ID" => Aggregate::independent(),
            other => panic!("{other}"),
        }
        .weighted(a["weighted"].as_bool().unwrap())
        .apply(&s)
        .unwrap();
        assert_eq!(
            agg.labels(),
            strings(&a["cluster"]),
            "{name}: cluster order"
        );
        ck.nums(
            "aggregate yi",
            &format!("{name} yi"),
            agg.yi(),
            &f64s(&a["yi"]),
        );
        ck.nums(
            "aggregate vi",
            &format!("{name} vi"),
            agg.vi(),
            &f64s(&a["vi"]),
        );
        for (m, v) in entries(&a["numeric"]) {
            ck.nums(
                "aggregate mods",
                &format!("{name} {m}"),
                agg.moderator(m).unwrap(),
                &f64s(v),
            );
        }
        for (m, v) in entries(&a["categorical"]) {
            assert_eq!(agg.attribute(m).unwrap(), strings(v), "{name} {m}");
        }
        n += 1;
    }
    assert!(n >= 18);
    ck.report(&format!("aggregate.escalc ({n} aggregations)"));
}

/// `data/official_partner_simulated.csv` is the fixture's SIMULATED data set.
#[test]
fn shipped_simulated_csv_is_the_fixture_data() {
    let ds = &fixture()["datasets"]["simulated_official_partner"];
    let text = include_str!("../../data/official_partner_simulated.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "simulated,study,esid,outcome,followup,design,n,yi,vi"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let yi = f64s(&ds["yi"]);
    let vi = f64s(&ds["vi"]);
    let cl = strings(&ds["cluster"]);
    let outcome = strings(&ds["categorical"]["outcome"]);
    assert_eq!(rows.len(), yi.len());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], "true");
        assert_eq!(r[1], cl[i]);
        assert_eq!(r[3], outcome[i]);
        assert_eq!(r[7].parse::<f64>().unwrap(), yi[i]);
        assert_eq!(r[8].parse::<f64>().unwrap(), vi[i]);
    }
}
