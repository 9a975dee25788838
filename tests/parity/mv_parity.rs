//! Parity of the multilevel and multivariate models ([`MvModel`], metafor's `rma.mv`),
//! their profile-likelihood intervals, contrasts, leave-one-cluster-out refits, Cook's
//! distances and a rho sweep with metafor 3.8-1, against `tests/fixtures/mv.json`
//! (written by `tests/fixtures/generate_mv.R`; six real metadat data sets and one
//! SIMULATED one).
//!
//! Three comparisons per fit, because metafor's optimiser is the loose one:
//!
//! 1. **At metafor's variance components** (metan refitted with them fixed): the
//!    coefficients, standard errors, statistics, p-values (relatively, down to the tail),
//!    intervals, `vcov`, QE, QM, log-likelihoods, deviances, I^2 by level and contrasts
//!    to 1e-10 relative. This checks every formula independently of the optimiser.
//! 2. **Against the polished optimum of metafor's likelihood** (the fixture's
//!    `polished`: Newton's method in R on `logLik(rma.mv(..., fixed components))` with
//!    numerical derivatives, from nlminb's solution): variance components, coefficients
//!    and standard errors to 1e-8 relative, the log-likelihood to 1e-12; components on
//!    the boundary are exactly 0 in metan (metafor's log parametrisation leaves ~1e-10).
//! 3. **Against nlminb's own solution**: nlminb stops on a relative change of the
//!    *objective* (`rel.tol = 1e-12`, or looser where it reports "singular/false
//!    convergence" there: the fixture's `rel_tol`), which leaves the components uncertain
//!    to about sqrt(rel.tol); the fixture measures the precision it reached (`reached`,
//!    the spread between two starts) and this comparison uses `max(1e-8, 10 * reached)`.
//!    metan's log-likelihood is never below metafor's (beyond 1e-12 relative).
//!
//! Profile-likelihood bounds are compared to 1e-6 relative: metafor's refits inside
//! `confint` run at the fixture's `ci_rel_tol` (loosened where nlminb fails), so its
//! bounds carry the same optimiser error. Cook's distances are compared with the ones
//! recomputed from polished refits to 1e-7 and with metafor's own to `10 * reached`
//! (relative to the largest distance).

use std::collections::BTreeMap;

use metan::data::Vcalc;
use metan::sensitivity::{leave_one_cluster_out, rho_sweep};
use metan::{Method, MvFit, MvModel, Structure, Studies, TestKind};
use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> &'static Value {
    use std::sync::OnceLock;
    static FX: OnceLock<Value> = OnceLock::new();
    FX.get_or_init(|| serde_json::from_str(include_str!("../fixtures/mv.json")).expect("parses"))
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn rel_err(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// Worst error and count per family.
#[derive(Default)]
struct Tally {
    stats: BTreeMap<String, (usize, f64, String)>,
    failures: Vec<String>,
}

impl Tally {
    /// Compares `got` with `want` relatively at `tol`; values with `|want| < floor`
    /// (zero in exact arithmetic, or a boundary component) by their absolute difference.
    fn cmp(&mut self, fam: &str, what: &str, got: f64, want: f64, tol: f64, floor: f64) {
        let err = if want.abs() < floor && got.abs() < floor {
            (got - want).abs() / floor
        } else {
            rel_err(got, want)
        };
        let e = self
            .stats
            .entry(fam.to_string())
            .or_insert((0, 0.0, String::new()));
        e.0 += 1;
        if err > e.1 || err.is_nan() {
            e.1 = err;
            e.2 = what.to_string();
        }
        if err.is_nan() || err > tol {
            self.failures.push(format!(
                "{fam}: {what}: metan {got:e} vs R {want:e} (rel {err:.2e} > {tol:.0e})"
            ));
        }
    }

    fn vec(&mut self, fam: &str, what: &str, got: &[f64], want: &[f64], tol: f64, floor: f64) {
        if got.len() != want.len() {
            self.failures.push(format!(
                "{fam}: {what}: length {} vs {}",
                got.len(),
                want.len()
            ));
            return;
        }
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            self.cmp(fam, &format!("{what}[{i}]"), *g, *w, tol, floor);
        }
    }

    fn finish(self) {
        println!(
            "{:<52} {:>7} {:>10}  worst at",
            "family", "numbers", "worst rel"
        );
        let mut total = 0;
        for (fam, (n, w, at)) in &self.stats {
            println!("{fam:<52} {n:>7} {w:>10.2e}  {at}");
            total += n;
        }
        println!("total numbers compared: {total}");
        assert!(
            self.failures.is_empty(),
            "{} mismatches:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn dataset(name: &str) -> &'static Value {
    fixture()["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap()
}

/// The studies of a fixture data set: clusters, observations, moderators, V blocks.
fn studies(name: &str) -> Studies {
    let ds = dataset(name);
    let mut s = Studies::from_variances(f64s(&ds["yi"]), f64s(&ds["vi"])).unwrap();
    for (n, v) in ds["numeric"].as_object().into_iter().flatten() {
        s = s.with_moderator(n.clone(), f64s(v)).unwrap();
    }
    for (n, v) in ds["categorical"].as_object().into_iter().flatten() {
        s = s.with_attribute(n.clone(), strs(v)).unwrap();
    }
    s = s.with_clusters(strs(&ds["cluster"])).unwrap();
    if !ds["obs"].is_null() {
        s = s.with_observations(strs(&ds["obs"])).unwrap();
    }
    if !ds["V_blocks"].is_null() {
        let blocks: Vec<Vec<f64>> = ds["V_blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(f64s)
            .collect();
        s = s.with_covariance_blocks(blocks).unwrap();
    }
    s
}

fn spec(f: &Value) -> MvModel {
    let method: Method = f["method"].as_str().unwrap().parse().unwrap();
    let test: TestKind = f["test"].as_str().unwrap().parse().unwrap();
    let mut m = MvModel::new()
        .method(method)
        .test(test)
        .moderators(strs(&f["mods"]));
    if let Some(rho) = f["rho"].as_f64() {
        m = match (f["time"].as_str(), f["phi"].as_f64()) {
            (Some(t), Some(phi)) => m.vcalc(Vcalc::new(rho).time_lag(t, phi)),
            _ => m.rho(rho),
        };
    }
    if let Some(o) = f["outcome"].as_str() {
        let st: Structure = f["struct"].as_str().unwrap().parse().unwrap();
        m = m.outcome(o, st);
    }
    m
}

fn family(f: &Value) -> String {
    match f["struct"].as_str() {
        None => "three-level".into(),
        Some(s) => format!("multivariate {s}"),
    }
}

/// The variance components of a fit in metafor's `theta` order.
fn theta(fit: &MvFit, f: &Value) -> Vec<f64> {
    let mut t = fit.sigma2().to_vec();
    t.extend_from_slice(fit.tau2());
    let fixed: Vec<bool> = f["rho_fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    for (r, fx) in fit
        .rho()
        .iter()
        .zip(fixed.iter().chain(std::iter::repeat(&false)))
    {
        if !fx {
            t.push(*r);
        }
    }
    t
}

fn ll(fit: &MvFit) -> f64 {
    fit.loglik()
}

/// The condition number of `X'M^-1X` (that of `Var(beta)`): metafor solves the normal
/// equations, losing about `eps * cond` relative accuracy in the coefficients.
fn cond(fit: &MvFit) -> f64 {
    let p = fit.p();
    let m = nalgebra::DMatrix::from_fn(p, p, |a, b| fit.vcov()[a][b]);
    let ev = m.symmetric_eigenvalues();
    let (lo, hi) = ev
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(l, h), &e| (l.min(e), h.max(e)));
    hi / lo
}

/// Tolerance of the quantities at metafor's components: 1e-10, or `10 eps cond(X'M^-1X)`
/// for designs with a column far from 0 (a year next to an intercept).
fn tol_cond(fit: &MvFit) -> f64 {
    REL.max(10.0 * f64::EPSILON * cond(fit))
}

/// A p-value inherits the relative error of its statistic amplified by the slope of the
/// log tail: `|d ln p / d x| x ~ x^2` for z and t, `~ x / 2` for chi^2.
fn p_tol(tol: f64, amplification: f64) -> f64 {
    tol * amplification.max(1.0)
}

/// Everything at metafor's own variance components (comparison 1).
fn conditional(t: &mut Tally, f: &Value, fit: &MvFit, fam: &str, scale: f64) {
    let id = f["id"].as_str().unwrap();
    let tol = tol_cond(fit);
    let c = fit.coefficients();
    let names: Vec<String> = c.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, strs(&f["names"]), "{id}: coefficient names");
    let g = |k: &str| -> Vec<f64> {
        c.iter()
            .map(|c| match k {
                "beta" => c.estimate,
                "se" => c.se,
                "zval" => c.statistic,
                "pval" => c.p_value,
                "ci_lb" => c.ci_lower,
                _ => c.ci_upper,
            })
            .collect()
    };
    let floor = 1e-13 * scale;
    for k in ["beta", "se", "zval", "ci_lb", "ci_ub"] {
        t.vec(fam, &format!("{id} {k}"), &g(k), &f64s(&f[k]), tol, floor);
    }
    for (i, (c, w)) in c.iter().zip(f64s(&f["pval"])).enumerate() {
        let pt = p_tol(tol, c.statistic * c.statistic);
        t.cmp(fam, &format!("{id} pval[{i}]"), c.p_value, w, pt, 0.0);
    }
    let vb: Vec<f64> = fit.vcov().iter().flatten().copied().collect();
    let want: Vec<f64> = f["vb"].as_array().unwrap().iter().flat_map(f64s).collect();
    t.vec(
        fam,
        &format!("{id} vb"),
        &vb,
        &want,
        tol,
        1e-13 * scale * scale,
    );
    t.cmp(
        fam,
        &format!("{id} QE"),
        fit.q(),
        f["QE"].as_f64().unwrap(),
        tol,
        0.0,
    );
    t.cmp(
        fam,
        &format!("{id} QEp"),
        fit.q_p_value(),
        f["QEp"].as_f64().unwrap(),
        p_tol(tol, fit.q() / 2.0),
        0.0,
    );
    if let Some(qm) = fit.qm() {
        t.cmp(
            fam,
            &format!("{id} QM"),
            qm,
            f["QM"].as_f64().unwrap(),
            tol,
            0.0,
        );
        t.cmp(
            fam,
            &format!("{id} QMp"),
            fit.qm_p_value().unwrap(),
            f["QMp"].as_f64().unwrap(),
            p_tol(tol, qm * fit.qm_df().0 / 2.0),
            0.0,
        );
    }
    let fs = fit.fit_stats();
    let w = &f["fit_stats"];
    for (k, v) in [
        ("ll_ml", fs.ll_ml),
        ("dev_ml", fs.dev_ml),
        ("ll_reml", fs.ll_reml),
        ("dev_reml", fs.dev_reml),
    ] {
        t.cmp(
            fam,
            &format!("{id} {k}"),
            v,
            w[k].as_f64().unwrap(),
            tol,
            0.0,
        );
    }
    if let Some(i2) = fit.i2() {
        let wi = &f["i2"];
        t.cmp(
            fam,
            &format!("{id} I2 total"),
            i2.total,
            wi["total"].as_f64().unwrap(),
            REL,
            1e-8,
        );
        t.vec(
            fam,
            &format!("{id} I2 levels"),
            &i2.levels,
            &f64s(&wi["levels"]),
            REL,
            1e-8,
        );
        t.cmp(
            fam,
            &format!("{id} vt"),
            i2.vt,
            wi["vt"].as_f64().unwrap(),
            REL,
            0.0,
        );
    }
    if let Some(ct) = f.get("contrast").filter(|v| !v.is_null()) {
        let rows: Vec<Vec<f64>> = ct["X"].as_array().unwrap().iter().map(f64s).collect();
        let h = fit.hypotheses(&rows).unwrap();
        let hr = h.rows();
        let descr: Vec<String> = hr.iter().map(|r| r.description.clone()).collect();
        assert_eq!(descr, strs(&ct["hyp"]), "{id}: hypothesis text");
        let fam = &format!("{fam}: contrasts");
        for (k, sel) in [("estimate", 0usize), ("se", 1), ("zval", 2)] {
            let got: Vec<f64> = hr
                .iter()
                .map(|r| [r.estimate, r.se, r.statistic][sel])
                .collect();
            t.vec(fam, &format!("{id} {k}"), &got, &f64s(&ct[k]), tol, floor);
        }
        for (i, (r, w)) in hr.iter().zip(f64s(&ct["pval"])).enumerate() {
            let pt = p_tol(tol, r.statistic * r.statistic);
            t.cmp(fam, &format!("{id} pval[{i}]"), r.p_value, w, pt, 0.0);
        }
        let qm = h.qm().unwrap();
        t.cmp(
            fam,
            &format!("{id} QM"),
            qm,
            ct["QM"].as_f64().unwrap(),
            tol,
            0.0,
        );
        t.cmp(
            fam,
            &format!("{id} QMp"),
            h.qm_p_value().unwrap(),
            ct["QMp"].as_f64().unwrap(),
            p_tol(tol, qm * h.qm_df().0 / 2.0),
            0.0,
        );
    }
}

#[test]
fn rma_mv_parity() {
    let mut t = Tally::default();
    let fits = fixture()["fits"].as_array().unwrap();
    assert!(fits.len() >= 35, "fixture has {} fits", fits.len());
    let real: Vec<&str> = fixture()["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["simulated"] == false)
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(real.len() >= 6, "real data sets: {real:?}");
    let mut printed_count = 0;
    let mut na_cooks = 0;
    for f in fits {
        let id = f["id"].as_str().unwrap();
        let ds = f["dataset"].as_str().unwrap();
        let s = studies(ds);
        let scale = s.vi().iter().sum::<f64>() / s.k() as f64;
        let fam = family(f);
        let model = spec(f);
        // 1. at metafor's components
        let th_r = f64s(&f["theta"]);
        let cond = model
            .clone()
            .fixed_components(th_r.clone())
            .fit(&s)
            .unwrap_or_else(|e| panic!("{id}: fixed fit: {e}"));
        conditional(
            &mut t,
            f,
            &cond,
            &format!("{fam}: at metafor's components"),
            scale,
        );

        // 2. the optimum
        let fit = model.fit(&s).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(fit.converged(), "{id}: did not converge");
        assert_eq!(
            fit.parms(),
            f["parms"].as_u64().unwrap() as usize,
            "{id}: parms"
        );
        assert_eq!(fit.k(), f["k"].as_u64().unwrap() as usize);
        let pol = &f["polished"];
        let th = theta(&fit, f);
        let boundary: Vec<bool> = pol["boundary"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_bool().unwrap())
            .collect();
        let pth = f64s(&pol["theta"]);
        for (i, b) in boundary.iter().enumerate() {
            if *b {
                assert_eq!(
                    th[i], pth[i],
                    "{id}: component {i} should be on the boundary"
                );
                assert_eq!(
                    fit.convergence().reason,
                    metan::StopReason::Boundary,
                    "{id}"
                );
            }
        }
        let fo = format!("{fam}: optimum vs polished metafor");
        t.vec(
            &fo,
            &format!("{id} theta"),
            &th,
            &f64s(&pol["theta"]),
            1e-8,
            1e-10 * scale,
        );
        t.cmp(
            &fo,
            &format!("{id} ll"),
            ll(&fit),
            pol["ll"].as_f64().unwrap(),
            1e-12,
            1.0,
        );
        let to = 1e-8f64.max(tol_cond(&fit));
        t.vec(
            &fo,
            &format!("{id} beta"),
            &fit.beta(),
            &f64s(&pol["beta"]),
            to,
            1e-10 * scale,
        );
        let se: Vec<f64> = fit.coefficients().iter().map(|c| c.se).collect();
        t.vec(&fo, &format!("{id} se"), &se, &f64s(&pol["se"]), to, 0.0);

        // 3. against nlminb's own solution
        let reached = f["reached"].as_f64().unwrap();
        let tol = (10.0 * reached).max(1e-8);
        let fn_ = format!("{fam}: optimum vs nlminb (tol 10x reached)");
        // (components on the boundary are checked against `polished` above: exactly 0 or
        // +-1 in metan, ~1e-10 .. 1e-13 in nlminb's log/atanh parametrisation)
        for (i, (a, b)) in th.iter().zip(&th_r).enumerate() {
            if !boundary[i] {
                t.cmp(&fn_, &format!("{id} theta[{i}]"), *a, *b, tol, 1e-6 * scale);
            }
        }
        t.vec(
            &fn_,
            &format!("{id} beta"),
            &fit.beta(),
            &f64s(&f["beta"]),
            tol,
            1e-6 * scale,
        );
        t.vec(&fn_, &format!("{id} se"), &se, &f64s(&f["se"]), tol, 0.0);
        let ll_r = f["fit_stats"][if fit.method() == Method::REML {
            "ll_reml"
        } else {
            "ll_ml"
        }]
        .as_f64()
        .unwrap();
        // (metafor evaluates its log-likelihood with the model matrix as given; with a
        // column such as a year next to an intercept, ln|X'M^-1X| carries a rounding error
        // of about eps * cond(X'M^-1X): for berkey_un_year, metafor's ll at its own
        // components is 3.00857060983670 with X and 3.00857060954195 with the orthonormal
        // Q of X = QR or a centred year, identical in exact arithmetic; metan's optimum,
        // 3.00857060958405, is above the latter. So the margin is that rounding error.)
        if ll(&fit) < ll_r - 1e-12f64.max(tol_cond(&fit)) * ll_r.abs() {
            t.failures.push(format!(
                "{id}: metan's log-likelihood {} below metafor's {ll_r}",
                ll(&fit)
            ));
        }
        // information criteria of the free fit (they move with ll only)
        let w = &f["fit_stats"];
        let fs = fit.fit_stats();
        for (k, v) in [
            ("aic_ml", fs.aic_ml),
            ("bic_ml", fs.bic_ml),
            ("aicc_ml", fs.aicc_ml),
            ("aic_reml", fs.aic_reml),
            ("bic_reml", fs.bic_reml),
            ("aicc_reml", fs.aicc_reml),
        ] {
            t.cmp(
                &fn_,
                &format!("{id} {k}"),
                v,
                w[k].as_f64().unwrap(),
                tol,
                0.0,
            );
        }
        // the printed output (4 decimals), at metafor's components (the free fits can
        // differ in a rounded last digit where metafor's optimum is off by ~1e-7)
        let printed = f["printed"].as_str().unwrap();
        let mine = cond.to_string();
        if mine.trim_end() != printed.trim_end() {
            t.failures.push(format!(
                "{id}: printed output differs:\nmetan:\n{mine}\nmetafor:\n{printed}"
            ));
        }
        printed_count += 1;

        // profile-likelihood intervals
        if let Some(ci) = f.get("confint").filter(|v| v.is_array()) {
            let mine = fit
                .profile_ci()
                .unwrap_or_else(|e| panic!("{id}: confint: {e}"));
            let want = ci.as_array().unwrap();
            assert_eq!(mine.len(), want.len(), "{id}: number of intervals");
            let fc = "profile-likelihood CIs (1e-6)";
            for (m, w) in mine.iter().zip(want) {
                assert_eq!(m.name, w["name"].as_str().unwrap(), "{id}");
                let nm = format!("{id} {}", m.name);
                t.cmp(
                    fc,
                    &format!("{nm} lb"),
                    m.ci_lower,
                    w["ci_lb"].as_f64().unwrap(),
                    1e-6,
                    1e-8 * scale,
                );
                t.cmp(
                    fc,
                    &format!("{nm} ub"),
                    m.ci_upper,
                    w["ci_ub"].as_f64().unwrap(),
                    1e-6,
                    1e-8 * scale,
                );
                assert_eq!(m.lower_sign, w["lb_sign"].as_str().unwrap(), "{nm}");
                assert_eq!(m.upper_sign, w["ub_sign"].as_str().unwrap(), "{nm}");
                assert!(m.ci_lower <= m.estimate && m.estimate <= m.ci_upper, "{nm}");
            }
        }

        // leave one cluster out and Cook's distance
        if let Some(loco) = f.get("loco").filter(|v| !v.is_null()) {
            let inf = leave_one_cluster_out(&spec(f), &s).unwrap();
            let rows = inf.rows();
            let want = loco.as_array().unwrap();
            assert_eq!(rows.len(), want.len(), "{id}: LOCO rows");
            let cooks_r = &f["cooks"];
            let names_r = strs(&cooks_r["cluster"]);
            let dist_r = f64s(&cooks_r["distance"]);
            let dmax = dist_r.iter().fold(0.0f64, |a, b| a.max(*b));
            let fl = "leave one cluster out vs polished (1e-8)";
            let fc = "Cook's distance vs polished (1e-7)";
            let fr = "Cook's distance vs metafor's (10x reached)";
            for (r, w) in rows.iter().zip(want) {
                assert_eq!(r.cluster, w["cluster"].as_str().unwrap(), "{id}");
                if w["ok"] != true {
                    assert!(
                        r.beta.is_none(),
                        "{id} {}: R failed, metan did not",
                        r.cluster
                    );
                    continue;
                }
                let nm = format!("{id} -{}", r.cluster);
                let Some(rb) = r.beta.as_ref() else {
                    t.failures
                        .push(format!("{nm}: metan refit failed: {:?}", r.error));
                    continue;
                };
                let p = &w["polished"];
                let j = names_r.iter().position(|n| *n == r.cluster).unwrap();
                t.cmp(
                    fl,
                    &format!("{nm} ll"),
                    r.loglik.unwrap(),
                    p["ll"].as_f64().unwrap(),
                    1e-12,
                    1.0,
                );
                if rb.len() != fit.p() {
                    // a moderator level only this cluster had: metafor drops the redundant
                    // column (keeping the old reference level) and reports no Cook's
                    // distance; metan re-codes the factor on the remaining levels, so the
                    // coefficients are parametrised differently (the likelihood, compared
                    // above, is the same) and there is no distance either
                    assert!(dist_r[j].is_nan() && r.cooks_distance.is_none(), "{nm}");
                    na_cooks += 1;
                    continue;
                }
                // Coefficients normwise, relative to the largest: the polish fixes the
                // components to ~1e-10, which moves every coefficient by about 1e-10 times
                // the largest one; a coefficient near 0 carries that absolute error (sim_cs
                // without S06: a slope of -7.3e-5 next to an intercept of 0.19, metan and the
                // polish 2.5e-12 apart, nlminb 1.8e-10 away from both).
                let bmax = rb.iter().fold(0.0f64, |a, b| a.max(b.abs()));
                t.vec(fl, &format!("{nm} beta"), rb, &f64s(&p["beta"]), 1e-8, bmax);
                t.vec(
                    fl,
                    &format!("{nm} se"),
                    r.se.as_ref().unwrap(),
                    &f64s(&p["se"]),
                    1e-8,
                    0.0,
                );
                if let Some(cd) = r.cooks_distance {
                    t.cmp(
                        fc,
                        &format!("{nm} cooks"),
                        cd,
                        p["cooks"].as_f64().unwrap(),
                        1e-7,
                        1e-9,
                    );
                    if dist_r[j].is_nan() {
                        // metafor's refit inside cooks.distance failed (nlminb at
                        // rel.tol = 1e-12 from the full fit's values): NA there
                        na_cooks += 1;
                    } else {
                        let err = (cd - dist_r[j]).abs() / dmax;
                        t.cmp(fr, &format!("{nm} cooks"), err, 0.0, tol.max(1e-6), 1.0);
                    }
                }
                // at metafor's own refit components: exact
                let sub = s
                    .filter(|i| {
                        s.clusters().unwrap().name(s.clusters().unwrap().of(i)) != r.cluster
                    })
                    .unwrap();
                let cf = spec(f)
                    .fixed_components(f64s(&w["theta"]))
                    .fit(&sub)
                    .unwrap();
                let fx = format!("{fam}: LOCO at metafor's components");
                let tc = tol_cond(&cf);
                t.vec(
                    &fx,
                    &format!("{nm} beta"),
                    &cf.beta(),
                    &f64s(&w["beta"]),
                    tc,
                    1e-13 * scale,
                );
                let se: Vec<f64> = cf.coefficients().iter().map(|c| c.se).collect();
                t.vec(&fx, &format!("{nm} se"), &se, &f64s(&w["se"]), tc, 0.0);
                t.cmp(
                    &fx,
                    &format!("{nm} ll"),
                    cf.loglik(),
                    w["ll"].as_f64().unwrap(),
                    tc,
                    0.0,
                );
            }
        }
    }

    // the rho sweep
    let s = studies("assink");
    let want = fixture()["rho_sweep"].as_array().unwrap();
    let rhos: Vec<f64> = want.iter().map(|w| w["rho"].as_f64().unwrap()).collect();
    let sweep = rho_sweep(&MvModel::new(), &s, Some(&rhos)).unwrap();
    assert_eq!(sweep.rows().len(), want.len());
    for (r, w) in sweep.rows().iter().zip(want) {
        assert_eq!(r.rho, w["rho"].as_f64().unwrap());
        let fit = r.fit.as_ref().unwrap();
        let p = &w["polished"];
        let fs = "rho sweep vs polished (1e-8)";
        let nm = format!("rho {}", r.rho);
        t.vec(
            fs,
            &format!("{nm} sigma2"),
            fit.sigma2(),
            &f64s(&p["theta"]),
            1e-8,
            1e-10,
        );
        t.vec(
            fs,
            &format!("{nm} beta"),
            &fit.beta(),
            &f64s(&p["beta"]),
            1e-8,
            0.0,
        );
        t.cmp(
            fs,
            &format!("{nm} ll"),
            fit.loglik(),
            p["ll"].as_f64().unwrap(),
            1e-12,
            1.0,
        );
    }
    println!("printed outputs compared: {printed_count}");
    println!("Cook's distances metafor reports as NA (its refit failed): {na_cooks}");
    t.finish();
}

/// crede2010 with a sampling correlation: effects of one sample share an observation id,
/// so `vcalc` gives them correlation 1 and the block is singular (metafor warns and then
/// stops with "Final variance-covariance matrix not positive definite"); metan names the
/// cluster.
#[test]
fn singular_vcalc_block_names_the_cluster() {
    let s = studies("crede");
    let e = MvModel::new().rho(0.8).fit(&s).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("not positive definite"), "{msg}");
    assert!(msg.contains("cluster `"), "{msg}");
}

/// Cluster-robust inference on the fits (`MvFit::robust`), against clubSandwich 0.5.8's
/// `coef_test(vcov = "CR2", test = "Satterthwaite")`, `conf_int`, `Wald_test(test = "HTZ")`
/// (of the moderators and of the fixture's contrasts) and metafor 3.8-1's
/// `robust(fit, cluster, adjust = TRUE)`, all computed by R on metafor's fit. Two
/// comparisons: metan at metafor's variance components (every formula, to 1e-10 or
/// `10 eps cond(X'M^-1X)`), and metan's own optimum (to `max(1e-8, 100 * reached)`, the
/// precision nlminb reached moving the robust numbers at first order).
#[test]
fn robust_parity_cr2_htz_cr1() {
    use metan::RobustKind;
    let mut t = Tally::default();
    let mut fits_checked = 0;
    for f in fixture()["fits"].as_array().unwrap() {
        let Some(rb) = f.get("robust").filter(|v| !v.is_null()) else {
            continue;
        };
        let id = f["id"].as_str().unwrap();
        let s = studies(f["dataset"].as_str().unwrap());
        let fam = family(f);
        let model = spec(f);
        let cond_fit = model
            .clone()
            .fixed_components(f64s(&f["theta"]))
            .fit(&s)
            .unwrap_or_else(|e| panic!("{id}: fixed fit: {e}"));
        let free_fit = model.fit(&s).unwrap_or_else(|e| panic!("{id}: {e}"));
        let reached = f["reached"].as_f64().unwrap_or(0.0);
        for (label, fit, tol) in [
            ("at metafor's components", &cond_fit, tol_cond(&cond_fit)),
            (
                "optimum",
                &free_fit,
                tol_cond(&free_fit).max(1e-8).max(100.0 * reached),
            ),
        ] {
            // CR2 (clubSandwich)
            let cr2 = fit.robust(RobustKind::CR2).unwrap();
            let w = &rb["cr2"];
            let c = cr2.coefficients();
            let fam2 = format!("{fam}: CR2 {label}");
            let get = |k: &str| -> Vec<f64> {
                c.iter()
                    .map(|c| match k {
                        "estimate" => c.estimate,
                        "se" => c.se,
                        "tstat" => c.statistic,
                        "df" => c.df.unwrap_or(f64::NAN),
                        "ci_lower" => c.ci_lower,
                        "ci_upper" => c.ci_upper,
                        _ => c.p_value,
                    })
                    .collect()
            };
            let scale = f64s(&w["se"]).iter().fold(0.0f64, |a, b| a.max(*b));
            for k in ["estimate", "se", "tstat", "df"] {
                t.vec(
                    &fam2,
                    &format!("{id} {k}"),
                    &get(k),
                    &f64s(&w[k]),
                    tol,
                    1e-300,
                );
            }
            for k in ["ci_lower", "ci_upper"] {
                t.vec(
                    &fam2,
                    &format!("{id} {k}"),
                    &get(k),
                    &f64s(&w[k]),
                    tol,
                    scale,
                );
            }
            let ts = f64s(&w["tstat"]);
            let amp = ts.iter().fold(1.0f64, |a, x| a.max(x * x));
            t.vec(
                &fam2,
                &format!("{id} p"),
                &get("p"),
                &f64s(&w["p_value"]),
                p_tol(tol, amp),
                1e-300,
            );
            for (i, wt) in w["wald"].as_array().unwrap().iter().enumerate() {
                let rows: Vec<Vec<f64>> = wt["constraints"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(f64s)
                    .collect();
                let h = cr2.wald_test(&rows).unwrap();
                let fam3 = format!("{fam}: HTZ {label}");
                t.cmp(
                    &fam3,
                    &format!("{id} wald{i} F"),
                    h.statistic,
                    wt["Fstat"].as_f64().unwrap(),
                    tol,
                    1e-300,
                );
                t.cmp(
                    &fam3,
                    &format!("{id} wald{i} df_num"),
                    h.df_num,
                    wt["df_num"].as_f64().unwrap(),
                    0.0,
                    1e-300,
                );
                t.cmp(
                    &fam3,
                    &format!("{id} wald{i} df_denom"),
                    h.df_denom.unwrap(),
                    wt["df_denom"].as_f64().unwrap(),
                    tol,
                    1e-300,
                );
                let fs = wt["Fstat"].as_f64().unwrap();
                t.cmp(
                    &fam3,
                    &format!("{id} wald{i} p"),
                    h.p_value.unwrap(),
                    wt["p_val"].as_f64().unwrap(),
                    p_tol(tol, fs),
                    1e-300,
                );
            }
            // CR1 (metafor's robust(adjust = TRUE))
            let cr1 = fit.robust(RobustKind::CR1).unwrap();
            let w = &rb["cr1"];
            let c = cr1.coefficients();
            let fam1 = format!("{fam}: CR1 {label}");
            let se: Vec<f64> = c.iter().map(|c| c.se).collect();
            let tv: Vec<f64> = c.iter().map(|c| c.statistic).collect();
            let pv: Vec<f64> = c.iter().map(|c| c.p_value).collect();
            let lo: Vec<f64> = c.iter().map(|c| c.ci_lower).collect();
            let hi: Vec<f64> = c.iter().map(|c| c.ci_upper).collect();
            let want_df = w["df"].as_f64().unwrap();
            for c in c {
                assert_eq!(c.df, Some(want_df), "{id}: CR1 df");
            }
            t.vec(
                &fam1,
                &format!("{id} se"),
                &se,
                &f64s(&w["se"]),
                tol,
                1e-300,
            );
            t.vec(
                &fam1,
                &format!("{id} t"),
                &tv,
                &f64s(&w["tval"]),
                tol,
                1e-300,
            );
            let amp = tv.iter().fold(1.0f64, |a, x| a.max(x * x));
            t.vec(
                &fam1,
                &format!("{id} p"),
                &pv,
                &f64s(&w["p_value"]),
                p_tol(tol, amp),
                1e-300,
            );
            let scale = se.iter().fold(0.0f64, |a, b| a.max(*b));
            t.vec(
                &fam1,
                &format!("{id} ci_lower"),
                &lo,
                &f64s(&w["ci_lower"]),
                tol,
                scale,
            );
            t.vec(
                &fam1,
                &format!("{id} ci_upper"),
                &hi,
                &f64s(&w["ci_upper"]),
                tol,
                scale,
            );
            if let (Some(om), Some(qm)) = (cr1.omnibus(), w["qm"].as_f64()) {
                t.cmp(&fam1, &format!("{id} QM"), om.statistic, qm, tol, 1e-300);
                t.cmp(
                    &fam1,
                    &format!("{id} QMp"),
                    om.p_value.unwrap(),
                    w["qm_p_value"].as_f64().unwrap(),
                    p_tol(tol, qm),
                    1e-300,
                );
                let qdf = f64s(&w["qm_df"]);
                assert_eq!(
                    (om.df_num, om.df_denom),
                    (qdf[0], Some(qdf[1])),
                    "{id}: QM df"
                );
            }
        }
        fits_checked += 1;
    }
    assert!(fits_checked >= 7, "{fits_checked} fits with robust results");
    println!("robust inference on {fits_checked} rma.mv fits:");
    t.finish();
}

/// CR2 needs more clusters than coefficients: a typed error naming the counts.
#[test]
fn robust_with_too_few_clusters_is_a_typed_error() {
    use metan::{MetaError, RobustKind};
    let s = Studies::from_variances(
        vec![0.1, 0.3, 0.2, 0.5, 0.4, 0.6],
        vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02],
    )
    .unwrap()
    .with_moderator("x", vec![1.0, 2.0, 1.5, 3.0, 2.5, 4.0])
    .unwrap()
    .with_clusters(["a", "a", "a", "b", "b", "b"])
    .unwrap();
    let fit = MvModel::new().moderator("x").fit(&s).unwrap();
    for kind in [RobustKind::CR2, RobustKind::CR1] {
        match fit.robust(kind) {
            Err(MetaError::TooFewClusters { .. }) => {}
            other => panic!("{kind}: expected TooFewClusters, got {other:?}"),
        }
    }
}
