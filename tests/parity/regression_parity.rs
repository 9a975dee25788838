//! Parity of meta-regression, subgroup analysis, likelihood-ratio tests and permutation
//! tests with metafor 3.8-1, against `tests/fixtures/regression.json` (written by
//! `tests/fixtures/generate_regression.R` with
//! `control = list(threshold = 1e-14, tol = 1e-14, maxiter = 10000)`).
//!
//! Tolerance: 1e-10 relative on every reported number, with the documented exceptions of
//! `parity_metafor.rs`, all of which are metafor being the loose one:
//!
//! * **Boundary tau^2 of ML/REML/EB.** metafor's Fisher scoring stops near tau^2 ~ 1e-15
//!   instead of 0 at the boundary, metan lands on 0: such fits are compared with an
//!   absolute bound of 1e-12 on tau^2, I^2, H^2 - 1 and R^2 (%), and 1e-10 relative on the
//!   rest.
//! * **Values that are zero in exact arithmetic** (a residual of 0, a coefficient of 0) are
//!   compared with an absolute bound of 1e-13 times the scale of the data.
//! * **An ill-conditioned design** (`bcg_ablat_year_btt2`: year ~ 1950-1980 next to the
//!   intercept, fitted values ~ 1e-2 from coefficients ~ 17). metafor's `.invcalc` forms
//!   `(X'WX)^-1` and then multiplies by `X'Wy`, losing about cond(X) digits; metan solves
//!   through the QR factors. Exact rational arithmetic (`tests/fixtures/exact_regression.py`)
//!   shows metan within 1e-12 and metafor off by up to 9e-10
//!   ([`ill_conditioned_design_metan_matches_exact_arithmetic`]); this model is compared at
//!   5e-9 relative (the largest difference seen is 2.1e-9).
//! * **Random permutation tests** can only agree within Monte-Carlo error: `|p_metan -
//!   p_metafor| <= 4 sqrt(p (1 - p) / iter)` (plus one permutation, 1/iter, for p near 0).
//!   Exact permutation tests agree exactly.

use std::collections::BTreeMap;

use metan::{
    MetaAnalysis, MetaRegression, MetaRegressionFit, Method, PermutationTest, Studies, TestKind,
    anova, subgroup_analysis,
};
use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> &'static Value {
    use std::sync::OnceLock;
    static FX: OnceLock<Value> = OnceLock::new();
    FX.get_or_init(|| {
        serde_json::from_str(include_str!("../fixtures/regression.json")).expect("parses")
    })
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn rel_err(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// The studies of a fixture data set (optionally a 1-based subset of rows).
fn studies(name: &str, subset: Option<&[usize]>) -> Studies {
    let ds = &fixture()["datasets"][name];
    let mut s = Studies::from_variances(f64s(&ds["yi"]), f64s(&ds["vi"])).unwrap();
    for (n, v) in ds["numeric"].as_object().unwrap() {
        s = s.with_moderator(n.clone(), f64s(v)).unwrap();
    }
    for (n, v) in ds["categorical"].as_object().unwrap() {
        let vals: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        s = s.with_attribute(n.clone(), vals).unwrap();
    }
    match subset {
        Some(rows) => s
            .subset(&rows.iter().map(|r| r - 1).collect::<Vec<_>>())
            .unwrap(),
        None => s,
    }
}

fn scale(s: &Studies) -> f64 {
    s.yi().iter().fold(1.0f64, |m, y| m.max(y.abs()))
}

fn spec_of(model: &Value, fit: &Value) -> MetaRegression {
    let mut r = MetaRegression::new()
        .method(fit["method"].as_str().unwrap().parse().unwrap())
        .test(fit["test"].as_str().unwrap().parse().unwrap())
        .level(fit["level"].as_f64().unwrap())
        .intercept(model["intercept"].as_bool().unwrap());
    for m in model["mods"].as_array().unwrap() {
        r = r.moderator(m.as_str().unwrap());
    }
    for (n, l) in model["references"].as_object().unwrap() {
        r = r.reference(n.clone(), l.as_str().unwrap());
    }
    if let Some(b) = model["btt"].as_array() {
        r = r.btt(b.iter().map(|x| x.as_f64().unwrap() as usize));
    }
    if let Some(t) = fit["tau2_fixed"].as_f64() {
        r = r.tau2(t);
    }
    r
}

struct Checker {
    rel: f64,
    failures: Vec<String>,
    checked: usize,
    worst: BTreeMap<String, (f64, String)>,
}

impl Checker {
    fn new() -> Self {
        Checker {
            rel: REL,
            failures: Vec::new(),
            checked: 0,
            worst: BTreeMap::new(),
        }
    }

    /// Compares one number; `abs` is an absolute bound that also passes.
    fn num(&mut self, group: &str, label: &str, theirs: Option<f64>, mine: Option<f64>, abs: f64) {
        match (theirs, mine) {
            (None, None) => {}
            (None, Some(m)) if !m.is_finite() => {}
            (Some(t), Some(m)) => {
                let e = rel_err(t, m);
                let ok = e <= self.rel || (t - m).abs() <= abs;
                if !ok {
                    self.failures
                        .push(format!("{label}: metafor {t:e} metan {m:e} (rel {e:e})"));
                }
                let tracked = if (t - m).abs() <= abs { 0.0 } else { e };
                let w = self
                    .worst
                    .entry(group.to_string())
                    .or_insert((0.0, String::new()));
                if tracked > w.0 {
                    *w = (tracked, label.to_string());
                }
                self.checked += 1;
            }
            (t, m) => self
                .failures
                .push(format!("{label}: metafor {t:?} metan {m:?}")),
        }
    }

    fn vec(&mut self, group: &str, label: &str, theirs: &Value, mine: &[f64], abs: f64) {
        if theirs.is_null() {
            return;
        }
        let t = f64s(theirs);
        if t.len() != mine.len() {
            self.failures.push(format!(
                "{label}: length metafor {} metan {}",
                t.len(),
                mine.len()
            ));
            return;
        }
        for (i, (a, b)) in t.iter().zip(mine).enumerate() {
            self.num(group, &format!("{label}[{i}]"), Some(*a), Some(*b), abs);
        }
    }

    fn finish(self, what: &str, min_checked: usize) {
        eprintln!(
            "{what}: largest relative error per group over {} numbers:",
            self.checked
        );
        for (g, (e, w)) in &self.worst {
            eprintln!("  {g:6} {e:9.2e}  ({w})");
        }
        assert!(
            self.checked >= min_checked,
            "only {} numbers checked",
            self.checked
        );
        assert!(
            self.failures.is_empty(),
            "{} mismatches:\n{}",
            self.failures.len(),
            self.failures[..self.failures.len().min(60)].join("\n")
        );
    }
}

fn nonnull(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn check_fit(c: &mut Checker, label: &str, f: &Value, fit: &MetaRegressionFit, sc: f64) {
    let method = f["method"].as_str().unwrap();
    let boundary = matches!(method, "ML" | "REML" | "EB")
        && nonnull(&f["tau2"]).is_some_and(|t| t < 1e-12)
        && fit.tau2() == 0.0;
    let z = 1e-13 * sc;
    let group = if c.rel > REL {
        format!("{method} (ill-conditioned X)")
    } else {
        method.to_string()
    };
    let g = group.as_str();
    let co = fit.coefficients();
    let names: Vec<&str> = f["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    if names != fit.names() {
        c.failures.push(format!(
            "{label}: names metafor {names:?} metan {:?}",
            fit.names()
        ));
        return;
    }
    let col = |f: fn(&metan::Coefficient) -> f64| co.iter().map(f).collect::<Vec<_>>();
    c.vec(
        g,
        &format!("{label} beta"),
        &f["beta"],
        &col(|c| c.estimate),
        z,
    );
    c.vec(g, &format!("{label} se"), &f["se"], &col(|c| c.se), z);
    c.vec(
        g,
        &format!("{label} zval"),
        &f["zval"],
        &col(|c| c.statistic),
        z,
    );
    c.vec(
        g,
        &format!("{label} pval"),
        &f["pval"],
        &col(|c| c.p_value),
        0.0,
    );
    c.vec(
        g,
        &format!("{label} ci_lb"),
        &f["ci_lb"],
        &col(|c| c.ci_lower),
        z,
    );
    c.vec(
        g,
        &format!("{label} ci_ub"),
        &f["ci_ub"],
        &col(|c| c.ci_upper),
        z,
    );
    c.num(
        g,
        &format!("{label} ddf"),
        nonnull(&f["ddf"]),
        co[0].df,
        0.0,
    );
    let vb: Vec<f64> = fit.vcov().iter().flatten().copied().collect();
    // covariances that are 0 in exact arithmetic (orthogonal dummies): relative to the
    // largest variance
    let vmax = (0..fit.p()).map(|j| fit.vcov()[j][j]).fold(0.0, f64::max);
    c.vec(g, &format!("{label} vb"), &f["vb"], &vb, 1e-13 * vmax);
    let btt: Vec<f64> = fit.btt().iter().map(|&b| b as f64).collect();
    c.vec(g, &format!("{label} btt"), &f["btt"], &btt, 0.0);
    c.num(
        g,
        &format!("{label} qm"),
        nonnull(&f["qm"]),
        Some(fit.qm()),
        0.0,
    );
    c.num(
        g,
        &format!("{label} qm_df"),
        nonnull(&f["qm_df"]),
        Some(fit.qm_df().0),
        0.0,
    );
    c.num(
        g,
        &format!("{label} qm_df2"),
        nonnull(&f["qm_df2"]),
        fit.qm_df().1,
        0.0,
    );
    c.num(
        g,
        &format!("{label} qm_p"),
        nonnull(&f["qm_p"]),
        Some(fit.qm_p_value()),
        0.0,
    );
    c.num(
        g,
        &format!("{label} qe"),
        nonnull(&f["qe"]),
        Some(fit.heterogeneity().q()),
        0.0,
    );
    c.num(
        g,
        &format!("{label} qe_df"),
        nonnull(&f["qe_df"]),
        Some(fit.heterogeneity().q_df()),
        0.0,
    );
    c.num(
        g,
        &format!("{label} qe_p"),
        nonnull(&f["qe_p"]),
        Some(fit.heterogeneity().q_p_value()),
        0.0,
    );
    let b = if boundary { 1e-12 } else { 0.0 };
    c.num(
        g,
        &format!("{label} tau2"),
        nonnull(&f["tau2"]),
        Some(fit.tau2()),
        b,
    );
    c.num(
        g,
        &format!("{label} tau2_se"),
        nonnull(&f["tau2_se"]),
        fit.heterogeneity().tau2_se(),
        0.0,
    );
    c.num(
        g,
        &format!("{label} i2"),
        nonnull(&f["i2"]),
        Some(fit.heterogeneity().i2()),
        b,
    );
    c.num(
        g,
        &format!("{label} h2"),
        nonnull(&f["h2"]),
        Some(fit.heterogeneity().h2()),
        b,
    );
    c.num(
        g,
        &format!("{label} r2"),
        nonnull(&f["r2"]),
        fit.heterogeneity().r2(),
        b,
    );
    c.num(
        g,
        &format!("{label} vt"),
        nonnull(&f["vt"]),
        Some(fit.heterogeneity().vt()),
        0.0,
    );
    c.num(
        g,
        &format!("{label} s2w"),
        nonnull(&f["s2w"]),
        Some(fit.s2w()),
        0.0,
    );
    c.num(
        g,
        &format!("{label} parms"),
        nonnull(&f["parms"]),
        Some(fit.parms() as f64),
        0.0,
    );
    let fs = fit.fit_stats();
    for (name, mine) in [
        ("ll_ml", fs.ll_ml),
        ("dev_ml", fs.dev_ml),
        ("aic_ml", fs.aic_ml),
        ("bic_ml", fs.bic_ml),
        ("aicc_ml", fs.aicc_ml),
        ("ll_reml", fs.ll_reml),
        ("dev_reml", fs.dev_reml),
        ("aic_reml", fs.aic_reml),
        ("bic_reml", fs.bic_reml),
        ("aicc_reml", fs.aicc_reml),
    ] {
        c.num(
            g,
            &format!("{label} {name}"),
            nonnull(&f[name]),
            Some(mine),
            0.0,
        );
    }
    c.vec(g, &format!("{label} hat"), &f["hat"], fit.hat(), 0.0);
    c.vec(g, &format!("{label} fitted"), &f["fitted"], fit.fitted(), z);
    c.vec(
        g,
        &format!("{label} resid"),
        &f["resid"],
        fit.residuals(),
        z,
    );
    c.vec(
        g,
        &format!("{label} rstandard"),
        &f["rstandard"],
        fit.rstandard(),
        z,
    );
    // predictions at new moderator values
    if !f["pred"].is_null() {
        let nm = f64s(&f["newmods"]);
        let width = nm.len() / 3;
        let preds: Vec<_> = (0..3)
            .map(|r| fit.predict(&nm[r * width..(r + 1) * width]).unwrap())
            .collect();
        let get = |f: fn(&metan::Prediction) -> f64| preds.iter().map(f).collect::<Vec<_>>();
        c.vec(g, &format!("{label} pred"), &f["pred"], &get(|p| p.pred), z);
        c.vec(
            g,
            &format!("{label} pred_se"),
            &f["pred_se"],
            &get(|p| p.se),
            z,
        );
        c.vec(
            g,
            &format!("{label} pred_ci_lb"),
            &f["pred_ci_lb"],
            &get(|p| p.ci_lower),
            z,
        );
        c.vec(
            g,
            &format!("{label} pred_ci_ub"),
            &f["pred_ci_ub"],
            &get(|p| p.ci_upper),
            z,
        );
        if f["pred_pi_lb"].is_null() {
            if preds[0].pi_lower.is_some() {
                c.failures
                    .push(format!("{label}: metan gives a PI, metafor none"));
            }
        } else {
            let pl: Vec<f64> = preds.iter().map(|p| p.pi_lower.unwrap()).collect();
            let pu: Vec<f64> = preds.iter().map(|p| p.pi_upper.unwrap()).collect();
            c.vec(g, &format!("{label} pred_pi_lb"), &f["pred_pi_lb"], &pl, z);
            c.vec(g, &format!("{label} pred_pi_ub"), &f["pred_pi_ub"], &pu, z);
        }
    }
    // Q-profile confidence intervals
    let ci = |o: Option<(f64, f64)>, i: usize| o.map(|t| if i == 0 { t.0 } else { t.1 });
    for (name, mine) in [
        ("tau2_ci_lb", ci(fit.heterogeneity().tau2_ci(), 0)),
        ("tau2_ci_ub", ci(fit.heterogeneity().tau2_ci(), 1)),
        ("i2_ci_lb", ci(fit.heterogeneity().i2_ci(), 0)),
        ("i2_ci_ub", ci(fit.heterogeneity().i2_ci(), 1)),
        ("h2_ci_lb", ci(fit.heterogeneity().h2_ci(), 0)),
        ("h2_ci_ub", ci(fit.heterogeneity().h2_ci(), 1)),
    ] {
        let theirs = nonnull(&f[name]);
        // metafor's confint() of an equal-effects model errors; metan has no interval
        if theirs.is_none() && mine.is_none() {
            continue;
        }
        c.num(g, &format!("{label} {name}"), theirs, mine, 1e-12);
    }
}

#[test]
fn meta_regression_matches_metafor() {
    let fx = fixture();
    let mut c = Checker::new();
    let mut fits = 0;
    let mut errors = 0;
    for model in fx["regressions"].as_array().unwrap() {
        let id = model["id"].as_str().unwrap();
        let s = studies(model["dataset"].as_str().unwrap(), None);
        let sc = scale(&s);
        // see the module documentation: metafor is the loose one here
        c.rel = if id == "bcg_ablat_year_btt2" {
            5e-9
        } else {
            REL
        };
        for f in model["fits"].as_array().unwrap() {
            let label = format!(
                "{id} {} {} level={} tau2={}",
                f["method"], f["test"], f["level"], f["tau2_fixed"]
            );
            let res = spec_of(model, f).fit(&s);
            if let Some(err) = f["error"].as_str() {
                match res {
                    Ok(_) => c
                        .failures
                        .push(format!("{label}: metafor errored ({err}) but metan fitted")),
                    Err(_) => errors += 1,
                }
                continue;
            }
            match res {
                Ok(fit) => {
                    check_fit(&mut c, &label, f, &fit, sc);
                    fits += 1;
                }
                Err(e) => c.failures.push(format!("{label}: metan error {e}")),
            }
        }
    }
    eprintln!("{fits} fits compared, {errors} errors reproduced");
    assert!(fits >= 500, "only {fits} fits");
    c.finish("meta-regression", 30_000);
}

/// The ill-conditioned design of the BCG data (ablat + year with an intercept): metan
/// agrees with exact rational arithmetic to 1e-12, metafor does not (which is why that model
/// is compared with metafor at 5e-9 only).
#[test]
fn ill_conditioned_design_metan_matches_exact_arithmetic() {
    let exact: Value =
        serde_json::from_str(include_str!("../fixtures/exact_regression.json")).unwrap();
    let s = studies("bcg", None);
    let fit = MetaRegression::new()
        .method(Method::EE)
        .moderators(["ablat", "year"])
        .fit(&s)
        .unwrap();
    for (a, b) in f64s(&exact["beta"]).iter().zip(fit.beta()) {
        assert!(rel_err(*a, b) < 1e-12, "beta exact {a} metan {b}");
    }
    for (a, b) in f64s(&exact["fitted"]).iter().zip(fit.fitted()) {
        assert!(rel_err(*a, *b) < 1e-12, "fitted exact {a} metan {b}");
    }
    let qe = exact["qe"].as_f64().unwrap();
    assert!(
        rel_err(qe, fit.heterogeneity().q()) < 1e-13,
        "QE exact {qe} metan {}",
        fit.heterogeneity().q()
    );
    // metafor's fitted values are off by more than 1e-10 here
    let model = fixture()["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "bcg_ablat_year_btt2")
        .unwrap();
    let ee = model["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["method"] == "EE" && f["test"] == "z")
        .unwrap();
    let worst = f64s(&exact["fitted"])
        .iter()
        .zip(f64s(&ee["fitted"]))
        .map(|(a, b)| rel_err(*a, b))
        .fold(0.0, f64::max);
    assert!(worst > 5e-10, "metafor's largest error {worst:e}");
}

#[test]
fn printed_output_matches_print_rma_uni() {
    let fx = fixture();
    let mut compared = 0;
    let mut failures = Vec::new();
    for model in fx["regressions"].as_array().unwrap() {
        let s = studies(model["dataset"].as_str().unwrap(), None);
        for f in model["fits"].as_array().unwrap() {
            let Some(printed) = f["printed"].as_str() else {
                continue;
            };
            let fit = spec_of(model, f).fit(&s).unwrap();
            let norm = |s: &str| s.trim_matches('\n').to_string();
            let ours = fit.to_string();
            if norm(&ours) != norm(printed) {
                failures.push(format!(
                    "{} {} {}:\n--- metafor\n{}\n--- metan\n{}",
                    model["id"],
                    f["method"],
                    f["test"],
                    norm(printed),
                    norm(&ours)
                ));
            }
            compared += 1;
        }
    }
    assert!(compared >= 500, "only {compared} printed outputs");
    assert!(
        failures.is_empty(),
        "{} printed outputs differ; first:\n{}",
        failures.len(),
        failures.first().cloned().unwrap_or_default()
    );
}

#[test]
fn subgroup_analysis_matches_metafor() {
    let fx = fixture();
    let mut c = Checker::new();
    for sg in fx["subgroups"].as_array().unwrap() {
        let s = studies(sg["dataset"].as_str().unwrap(), None);
        let by = sg["by"].as_str().unwrap();
        let method: Method = sg["method"].as_str().unwrap().parse().unwrap();
        let test: TestKind = sg["test"].as_str().unwrap().parse().unwrap();
        let label = format!("{} by {by} {method} {test}", sg["dataset"]);
        let ma = MetaAnalysis::new().method(method).test(test);
        let r = subgroup_analysis(&s, by, &ma).unwrap();
        let g = "subgroup";
        let groups = sg["groups"].as_array().unwrap();
        assert_eq!(groups.len(), r.groups().len(), "{label}");
        for (t, m) in groups.iter().zip(r.groups()) {
            assert_eq!(t["level"].as_str().unwrap(), m.level(), "{label}");
            let l = format!("{label} [{}]", m.level());
            let f = m.fit();
            assert_eq!(t["k"].as_f64().unwrap() as usize, f.k());
            c.num(
                g,
                &format!("{l} estimate"),
                nonnull(&t["estimate"]),
                Some(f.estimate()),
                0.0,
            );
            c.num(g, &format!("{l} se"), nonnull(&t["se"]), Some(f.se()), 0.0);
            c.num(
                g,
                &format!("{l} ci_lb"),
                nonnull(&t["ci_lb"]),
                Some(f.ci().0),
                0.0,
            );
            c.num(
                g,
                &format!("{l} ci_ub"),
                nonnull(&t["ci_ub"]),
                Some(f.ci().1),
                0.0,
            );
            c.num(
                g,
                &format!("{l} pval"),
                nonnull(&t["pval"]),
                Some(f.p_value()),
                0.0,
            );
            c.num(
                g,
                &format!("{l} tau2"),
                nonnull(&t["tau2"]),
                Some(f.tau2()),
                1e-12,
            );
            c.num(
                g,
                &format!("{l} q"),
                nonnull(&t["q"]),
                Some(f.heterogeneity().q()),
                1e-12,
            );
            c.num(
                g,
                &format!("{l} q_p"),
                nonnull(&t["q_p"]),
                Some(f.heterogeneity().q_p_value()),
                1e-12,
            );
            c.num(
                g,
                &format!("{l} i2"),
                nonnull(&t["i2"]),
                Some(f.heterogeneity().i2()),
                1e-12,
            );
            c.num(
                g,
                &format!("{l} h2"),
                nonnull(&t["h2"]),
                Some(f.heterogeneity().h2()),
                1e-12,
            );
        }
        let sep = r.separate();
        c.num(
            g,
            &format!("{label} Qb"),
            nonnull(&sg["separate"]["q_between"]),
            Some(sep.q),
            0.0,
        );
        c.num(
            g,
            &format!("{label} Qb df"),
            nonnull(&sg["separate"]["df"]),
            Some(sep.df),
            0.0,
        );
        c.num(
            g,
            &format!("{label} Qb p"),
            nonnull(&sg["separate"]["p"]),
            Some(sep.p_value),
            0.0,
        );
        let com = r.common().expect("common-tau^2 model");
        let cm = &sg["common"];
        let est: Vec<f64> = com.estimates().iter().map(|c| c.estimate).collect();
        let se: Vec<f64> = com.estimates().iter().map(|c| c.se).collect();
        let lb: Vec<f64> = com.estimates().iter().map(|c| c.ci_lower).collect();
        let ub: Vec<f64> = com.estimates().iter().map(|c| c.ci_upper).collect();
        c.vec(
            g,
            &format!("{label} common est"),
            &cm["estimate"],
            &est,
            0.0,
        );
        c.vec(g, &format!("{label} common se"), &cm["se"], &se, 0.0);
        c.vec(g, &format!("{label} common ci_lb"), &cm["ci_lb"], &lb, 0.0);
        c.vec(g, &format!("{label} common ci_ub"), &cm["ci_ub"], &ub, 0.0);
        c.num(
            g,
            &format!("{label} common tau2"),
            nonnull(&cm["tau2"]),
            Some(com.tau2()),
            1e-12,
        );
        c.num(
            g,
            &format!("{label} common qe"),
            nonnull(&cm["qe"]),
            Some(com.qe()),
            0.0,
        );
        c.num(
            g,
            &format!("{label} common qe_p"),
            nonnull(&cm["qe_p"]),
            Some(com.qe_p_value()),
            0.0,
        );
        c.num(
            g,
            &format!("{label} common qm"),
            nonnull(&cm["qm"]),
            Some(com.qm()),
            0.0,
        );
        c.num(
            g,
            &format!("{label} common qm_df"),
            nonnull(&cm["qm_df"]),
            Some(com.qm_df().0),
            0.0,
        );
        c.num(
            g,
            &format!("{label} common qm_df2"),
            nonnull(&cm["qm_df2"]),
            com.qm_df().1,
            0.0,
        );
        c.num(
            g,
            &format!("{label} common qm_p"),
            nonnull(&cm["qm_p"]),
            Some(com.qm_p_value()),
            0.0,
        );
    }
    c.finish("subgroups", 300);
}

#[test]
fn likelihood_ratio_tests_match_anova_rma() {
    let fx = fixture();
    let mut c = Checker::new();
    let mut printed = Vec::new();
    for a in fx["anovas"].as_array().unwrap() {
        let s = studies(a["dataset"].as_str().unwrap(), None);
        let method: Method = a["method"].as_str().unwrap().parse().unwrap();
        let mods = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect()
        };
        let full = MetaRegression::new()
            .method(method)
            .moderators(mods(&a["full"]))
            .fit(&s)
            .unwrap();
        let reduced = MetaRegression::new()
            .method(method)
            .moderators(mods(&a["reduced"]))
            .fit(&s)
            .unwrap();
        let r = anova(&full, &reduced).unwrap();
        let label = format!(
            "{} {:?} vs {:?} {method}",
            a["dataset"], a["full"], a["reduced"]
        );
        let g = "anova";
        c.num(
            g,
            &format!("{label} parms_f"),
            nonnull(&a["parms_full"]),
            Some(r.parms().0 as f64),
            0.0,
        );
        c.num(
            g,
            &format!("{label} parms_r"),
            nonnull(&a["parms_reduced"]),
            Some(r.parms().1 as f64),
            0.0,
        );
        c.num(
            g,
            &format!("{label} lrt"),
            nonnull(&a["lrt"]),
            Some(r.lrt()),
            0.0,
        );
        c.num(
            g,
            &format!("{label} p"),
            nonnull(&a["p"]),
            Some(r.p_value()),
            0.0,
        );
        let (ff, fr) = (r.fit_stats_full(), r.fit_stats_reduced());
        for (n, m) in [
            ("ll_full", ff.ll),
            ("ll_reduced", fr.ll),
            ("dev_full", ff.dev),
            ("dev_reduced", fr.dev),
            ("aic_full", ff.aic),
            ("aic_reduced", fr.aic),
            ("bic_full", ff.bic),
            ("bic_reduced", fr.bic),
            ("aicc_full", ff.aicc),
            ("aicc_reduced", fr.aicc),
        ] {
            c.num(g, &format!("{label} {n}"), nonnull(&a[n]), Some(m), 0.0);
        }
        c.num(
            g,
            &format!("{label} qe_f"),
            nonnull(&a["qe_full"]),
            Some(r.qe().0),
            0.0,
        );
        c.num(
            g,
            &format!("{label} qe_r"),
            nonnull(&a["qe_reduced"]),
            Some(r.qe().1),
            0.0,
        );
        let ee = method.is_equal_effects();
        if !ee {
            c.num(
                g,
                &format!("{label} tau2_f"),
                nonnull(&a["tau2_full"]),
                Some(r.tau2().0),
                1e-12,
            );
            c.num(
                g,
                &format!("{label} tau2_r"),
                nonnull(&a["tau2_reduced"]),
                Some(r.tau2().1),
                1e-12,
            );
        }
        c.num(g, &format!("{label} r2"), nonnull(&a["r2"]), r.r2(), 1e-12);
        let ws: Vec<&str> = a["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(
            ws.iter()
                .any(|w| w.contains("REML comparisons not meaningful")),
            r.warnings()
                .iter()
                .any(|w| w.contains("REML comparisons not meaningful")),
            "{label}: REML warning"
        );
        let norm = |s: &str| s.trim_matches('\n').to_string();
        let theirs = norm(a["printed"].as_str().unwrap());
        let ours = norm(&r.to_string());
        if theirs != ours {
            printed.push(format!("{label}\n--- metafor\n{theirs}\n--- metan\n{ours}"));
        }
    }
    assert!(printed.is_empty(), "{}", printed.join("\n"));
    c.finish("anova", 100);
}

fn perm_spec(p: &Value) -> (MetaRegression, Studies) {
    let subset: Option<Vec<usize>> = p["subset"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap() as usize).collect());
    let s = studies(p["dataset"].as_str().unwrap(), subset.as_deref());
    let mut r = MetaRegression::new()
        .method(p["method"].as_str().unwrap().parse().unwrap())
        .test(p["test"].as_str().unwrap().parse().unwrap());
    for m in p["mods"].as_array().unwrap() {
        r = r.moderator(m.as_str().unwrap());
    }
    (r, s)
}

#[test]
fn exact_permutation_tests_match_permutest_exactly() {
    let fx = fixture();
    let mut n = 0;
    for p in fx["permutations"].as_array().unwrap() {
        if !p["exact"].as_bool().unwrap() {
            continue;
        }
        let (spec, s) = perm_spec(p);
        let iter = p["iter"].as_f64().unwrap() as usize;
        let r = PermutationTest::new()
            .iter(iter)
            .seed(7)
            .run(&spec, &s)
            .unwrap();
        let label = format!(
            "{} {:?} {} {}",
            p["dataset"], p["mods"], p["method"], p["test"]
        );
        assert!(r.exact(), "{label}: should be exact");
        assert_eq!(
            r.permutations() as f64,
            p["exact_iter"].as_f64().unwrap(),
            "{label}: number of permutations"
        );
        let theirs = f64s(&p["pval"]);
        for (j, (t, m)) in theirs.iter().zip(r.p_values()).enumerate() {
            assert!(
                (t - m).abs() < 1e-12,
                "{label}: pval[{j}] metafor {t} metan {m}"
            );
        }
        let qm_p = p["qm_p"].as_f64().unwrap();
        assert!(
            (qm_p - r.qm_p_value()).abs() < 1e-12,
            "{label}: QMp {qm_p} vs {}",
            r.qm_p_value()
        );
        // print.permutest.rma.uni (metan's first line is metafor's progress message)
        let ours = r.to_string();
        let ours = ours
            .split_once("permutation test.\n")
            .map(|(_, rest)| rest)
            .unwrap();
        let norm = |s: &str| s.trim_matches('\n').to_string();
        assert_eq!(
            norm(ours),
            norm(p["printed"].as_str().unwrap()),
            "{label}: printed"
        );
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn random_permutation_tests_within_monte_carlo_error() {
    let fx = fixture();
    let mut n = 0;
    for p in fx["permutations"].as_array().unwrap() {
        if p["exact"].as_bool().unwrap() {
            continue;
        }
        let (spec, s) = perm_spec(p);
        let iter = p["iter"].as_f64().unwrap() as usize;
        assert_eq!(iter, 10_000);
        let r = PermutationTest::new()
            .iter(iter)
            .seed(20240601)
            .run(&spec, &s)
            .unwrap();
        assert!(!r.exact());
        let label = format!(
            "{} {:?} {} {}",
            p["dataset"], p["mods"], p["method"], p["test"]
        );
        let bound = |pv: f64| 4.0 * (pv * (1.0 - pv) / iter as f64).sqrt() + 1.0 / iter as f64;
        let mut theirs = f64s(&p["pval"]);
        theirs.push(p["qm_p"].as_f64().unwrap());
        let mut mine = r.p_values().to_vec();
        mine.push(r.qm_p_value());
        for (j, (t, m)) in theirs.iter().zip(&mine).enumerate() {
            assert!(
                (t - m).abs() <= bound(*t),
                "{label}: p[{j}] metafor {t} metan {m} (bound {})",
                bound(*t)
            );
        }
        n += 1;
    }
    assert_eq!(n, 2);
}
