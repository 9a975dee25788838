//! Parity of the publication-bias methods with metafor 3.8-1 (and R's `lm` and
//! `cor.test`), against `tests/fixtures/bias.json` (written by
//! `tests/fixtures/generate_bias.R` with
//! `control = list(threshold = 1e-14, tol = 1e-14, maxiter = 10000)`, also passed to every
//! fit inside `trimfill`).
//!
//! Tolerance: 1e-10 relative on every number, with these documented exceptions, all of
//! which are metafor being the loose one:
//!
//! * **Boundary tau^2 of REML.** metafor's Fisher scoring stops near tau^2 ~ 1e-15 instead
//!   of 0 at the boundary, metan lands on 0: tau^2 is compared with an absolute bound of
//!   1e-12 (as in `parity_metafor.rs`).
//! * **Values that are zero in exact arithmetic** are compared with an absolute bound of
//!   1e-13 times the scale of the data.
//! * **R's exact Kendall probabilities** are sums of permutation counts held in doubles
//!   divided by `n!`; metan works in probability space. R computes an upper tail as
//!   `1 - P(T <= q - 1)`, which loses digits to cancellation (about `1e-14 / p` relative);
//!   metan sums the upper tail directly (`P(T <= N - q)`, by symmetry). Exact rational
//!   arithmetic (`tests/fixtures/exact_kendall.py`) shows metan within 1e-13 of the exact
//!   value everywhere and R off by up to 1.7e-9 relative at `n = 60, T = 1200`
//!   ([`upper_tails_are_exact_where_r_cancels`]); Kendall p-values are therefore also
//!   accepted within an absolute 1e-15 (1e-13 for the upper tail computed by R).

use std::collections::BTreeMap;

use metan::bias::{
    Estimator, FailSafeN, PetPeese, PetPeeseChoice, Predictor, RankTest, RegModel, RegTest, Side,
    TrimFill, kendall_cdf,
};
use metan::{MetaAnalysis, MetaError, Method, Studies, TestKind};
use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> &'static Value {
    use std::sync::OnceLock;
    static FX: OnceLock<Value> = OnceLock::new();
    FX.get_or_init(|| serde_json::from_str(include_str!("../fixtures/bias.json")).expect("parses"))
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

fn dataset(name: &str) -> &'static Value {
    &fixture()["datasets"][name]
}

fn studies(name: &str) -> Studies {
    let ds = dataset(name);
    Studies::from_variances(f64s(&ds["yi"]), f64s(&ds["vi"])).unwrap()
}

fn ni(name: &str) -> Option<Vec<f64>> {
    let v = &dataset(name)["ni"];
    (!v.is_null()).then(|| f64s(v))
}

fn scale(s: &Studies) -> f64 {
    s.yi().iter().fold(1.0f64, |m, y| m.max(y.abs()))
}

struct Checker {
    failures: Vec<String>,
    checked: usize,
    worst: BTreeMap<String, (f64, String)>,
}

impl Checker {
    fn new() -> Self {
        Checker {
            failures: Vec::new(),
            checked: 0,
            worst: BTreeMap::new(),
        }
    }

    fn num(&mut self, group: &str, label: &str, theirs: &Value, mine: Option<f64>, abs: f64) {
        match (theirs.as_f64(), mine) {
            (None, None) => {}
            (Some(t), Some(m)) => {
                let e = rel_err(t, m);
                let ok = e <= REL || (t - m).abs() <= abs;
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

    fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    fn finish(self, what: &str, min_checked: usize) {
        eprintln!(
            "{what}: largest relative error per group over {} numbers:",
            self.checked
        );
        for (g, (e, w)) in &self.worst {
            eprintln!("  {g:14} {e:9.2e}  ({w})");
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

fn spec_of(case: &Value) -> MetaAnalysis {
    let method: Method = case["method"].as_str().unwrap().parse().unwrap();
    let test: TestKind = case["test"].as_str().unwrap().parse().unwrap();
    let mut spec = MetaAnalysis::new().method(method).test(test);
    if case["weights"].as_bool().unwrap() {
        spec = spec.weights(ni(case["dataset"].as_str().unwrap()).unwrap());
    }
    spec
}

fn coefficient_checks(
    c: &mut Checker,
    group: &str,
    label: &str,
    theirs: &Value,
    mine: &[metan::Coefficient],
    z: f64,
) {
    let t = theirs.as_array().unwrap();
    assert_eq!(t.len(), mine.len(), "{label}: number of coefficients");
    for (j, (a, b)) in t.iter().zip(mine).enumerate() {
        let l = format!("{label} b{j}");
        c.num(
            group,
            &format!("{l} estimate"),
            &a["estimate"],
            Some(b.estimate),
            z,
        );
        c.num(group, &format!("{l} se"), &a["se"], Some(b.se), 0.0);
        c.num(
            group,
            &format!("{l} stat"),
            &a["statistic"],
            Some(b.statistic),
            0.0,
        );
        c.num(
            group,
            &format!("{l} p"),
            &a["p_value"],
            Some(b.p_value),
            0.0,
        );
        c.num(
            group,
            &format!("{l} ci_lb"),
            &a["ci_lower"],
            Some(b.ci_lower),
            z,
        );
        c.num(
            group,
            &format!("{l} ci_ub"),
            &a["ci_upper"],
            Some(b.ci_upper),
            z,
        );
    }
}

#[test]
fn regtest_matches_metafor() {
    let mut c = Checker::new();
    let mut n_cases = 0;
    for case in fixture()["cases"].as_array().unwrap() {
        let name = case["dataset"].as_str().unwrap();
        let s = studies(name);
        let z = 1e-13 * scale(&s);
        let spec = spec_of(case);
        for r in case["regtest"].as_array().unwrap() {
            let model: RegModel = r["model"].as_str().unwrap().parse().unwrap();
            let pred: Predictor = r["predictor"].as_str().unwrap().parse().unwrap();
            let label = format!(
                "{name} {} {} {} {}",
                case["method"].as_str().unwrap(),
                case["test"].as_str().unwrap(),
                r["model"].as_str().unwrap(),
                pred
            );
            let mut t = RegTest::new().model(model).predictor(pred);
            if let Some(n) = ni(name) {
                t = t.sample_sizes(n);
            }
            let fit = match t.run(&spec, &s) {
                Ok(f) => f,
                Err(e) => {
                    c.fail(format!("{label}: metan error {e}"));
                    continue;
                }
            };
            let g = format!("regtest {}", r["model"].as_str().unwrap());
            c.num(
                &g,
                &format!("{label} statistic"),
                &r["statistic"],
                Some(fit.statistic()),
                0.0,
            );
            c.num(&g, &format!("{label} df"), &r["df"], fit.df(), 0.0);
            c.num(
                &g,
                &format!("{label} p"),
                &r["p_value"],
                Some(fit.p_value()),
                0.0,
            );
            c.num(
                &g,
                &format!("{label} limit"),
                &r["limit_estimate"],
                fit.limit_estimate(),
                z,
            );
            c.num(
                &g,
                &format!("{label} limit lb"),
                &r["limit_ci_lower"],
                fit.limit_ci().map(|x| x.0),
                z,
            );
            c.num(
                &g,
                &format!("{label} limit ub"),
                &r["limit_ci_upper"],
                fit.limit_ci().map(|x| x.1),
                z,
            );
            c.num(&g, &format!("{label} tau2"), &r["tau2"], fit.tau2(), 1e-12);
            coefficient_checks(
                &mut c,
                &g,
                &label,
                &r["coefficients"],
                fit.coefficients(),
                z,
            );
            n_cases += 1;
        }
    }
    assert!(n_cases >= 150, "only {n_cases} regtest cases");
    c.finish("regtest", 3000);
}

#[test]
fn trimfill_matches_metafor() {
    let mut c = Checker::new();
    let mut n_cases = 0;
    let mut sides = (0, 0);
    for case in fixture()["cases"].as_array().unwrap() {
        let name = case["dataset"].as_str().unwrap();
        let s = studies(name);
        let z = 1e-13 * scale(&s);
        let spec = spec_of(case);
        for t in case["trimfill"].as_array().unwrap() {
            let est: Estimator = t["estimator"].as_str().unwrap().parse().unwrap();
            let mut tf = TrimFill::new().estimator(est);
            if let Some(side) = t["side_given"].as_str() {
                tf = tf.side(side.parse().unwrap());
            }
            let label = format!(
                "{name} {} {} w={} {est} side={}",
                case["method"].as_str().unwrap(),
                case["test"].as_str().unwrap(),
                case["weights"],
                t["side_given"]
            );
            let res = tf.run(&spec, &s);
            if let Some(msg) = t["error"].as_str() {
                // metafor stops (here: Q0's square root of a negative number)
                match res {
                    Err(MetaError::Numerical { .. }) => {}
                    other => c.fail(format!("{label}: metafor error `{msg}`, metan {other:?}")),
                }
                continue;
            }
            let fit = match res {
                Ok(f) => f,
                Err(e) => {
                    c.fail(format!("{label}: metan error {e}"));
                    continue;
                }
            };
            let g = "trimfill";
            let side = t["side"].as_str().unwrap();
            if fit.side().to_string() != side {
                c.fail(format!("{label}: side metafor {side} metan {}", fit.side()));
                continue;
            }
            match fit.side() {
                Side::Left => sides.0 += 1,
                Side::Right => sides.1 += 1,
            }
            let k0 = t["k0"].as_f64().unwrap() as usize;
            if fit.k0() != k0 {
                c.fail(format!("{label}: k0 metafor {k0} metan {}", fit.k0()));
                continue;
            }
            c.num(g, &format!("{label} se_k0"), &t["se_k0"], fit.se_k0(), 0.0);
            c.num(g, &format!("{label} p_k0"), &t["p_k0"], fit.p_k0(), 0.0);
            let fy = f64s(&t["filled_yi"]);
            let fv = f64s(&t["filled_vi"]);
            assert_eq!(fy.len(), fit.filled().len(), "{label}: filled");
            for (j, f) in fit.filled().iter().enumerate() {
                c.num(
                    g,
                    &format!("{label} filled yi[{j}]"),
                    &Value::from(fy[j]),
                    Some(f.yi),
                    z,
                );
                c.num(
                    g,
                    &format!("{label} filled vi[{j}]"),
                    &Value::from(fv[j]),
                    Some(f.vi),
                    0.0,
                );
                assert_eq!(f.label, format!("Filled {}", j + 1));
            }
            let m = fit.fit();
            assert_eq!(m.k(), t["k"].as_f64().unwrap() as usize, "{label}: k");
            assert_eq!(
                m.test().name(),
                t["test"].as_str().unwrap(),
                "{label}: test"
            );
            c.num(
                g,
                &format!("{label} estimate"),
                &t["estimate"],
                Some(m.estimate()),
                z,
            );
            c.num(g, &format!("{label} se"), &t["se"], Some(m.se()), 0.0);
            c.num(
                g,
                &format!("{label} stat"),
                &t["statistic"],
                Some(m.statistic()),
                z,
            );
            c.num(
                g,
                &format!("{label} p"),
                &t["p_value"],
                Some(m.p_value()),
                0.0,
            );
            c.num(
                g,
                &format!("{label} ci_lb"),
                &t["ci_lower"],
                Some(m.ci().0),
                z,
            );
            c.num(
                g,
                &format!("{label} ci_ub"),
                &t["ci_upper"],
                Some(m.ci().1),
                z,
            );
            c.num(
                g,
                &format!("{label} tau2"),
                &t["tau2"],
                Some(m.tau2()),
                1e-12,
            );
            c.num(
                g,
                &format!("{label} QE"),
                &t["q"],
                Some(m.heterogeneity().q()),
                0.0,
            );
            n_cases += 1;
        }
    }
    assert!(n_cases >= 150, "only {n_cases} trim-and-fill cases");
    assert!(sides.0 > 20 && sides.1 > 20, "both sides filled: {sides:?}");
    c.finish("trimfill", 2500);
}

#[test]
fn ranktest_matches_metafor() {
    let mut c = Checker::new();
    let (mut exact, mut approx) = (0, 0);
    for r in fixture()["ranktest"].as_array().unwrap() {
        let name = r["dataset"].as_str().unwrap();
        let s = studies(name);
        let fit = RankTest::new().run(&s).unwrap();
        let ties = r["ties_in_vi"].as_bool().unwrap();
        assert_eq!(fit.exact(), !ties, "{name}: exact");
        if fit.exact() {
            exact += 1;
        } else {
            approx += 1;
        }
        c.num(
            "tau",
            &format!("{name} tau"),
            &r["tau"],
            Some(fit.tau()),
            0.0,
        );
        c.num(
            "p",
            &format!("{name} p"),
            &r["p_value"],
            Some(fit.p_value()),
            1e-15,
        );
        let ap = RankTest::new().exact(false).run(&s).unwrap();
        assert!(!ap.exact());
        c.num(
            "p approx",
            &format!("{name} p approx"),
            &r["p_value_approx"],
            Some(ap.p_value()),
            0.0,
        );
    }
    assert!(
        exact >= 3 && approx >= 3,
        "exact {exact}, approximate {approx}"
    );
    c.finish("ranktest", 20);
}

#[test]
fn exact_kendall_distribution_matches_r() {
    // R's pkendall(q, n) on a grid of n (2..170) and q (both tails and the middle)
    let mut c = Checker::new();
    for g in fixture()["pkendall"].as_array().unwrap() {
        let n = g["n"].as_f64().unwrap() as usize;
        let qs = f64s(&g["q"]);
        let ps = f64s(&g["p"]);
        for (q, p) in qs.iter().zip(&ps) {
            let mine = kendall_cdf(*q as usize, n);
            c.num(
                "pkendall",
                &format!("n={n} q={q}"),
                &Value::from(*p),
                Some(mine),
                1e-15,
            );
        }
    }
    c.finish("pKendall", 200);
}

fn exact_kendall() -> Value {
    serde_json::from_str(include_str!("../fixtures/exact_kendall.json")).unwrap()
}

#[test]
fn kendall_cdf_matches_exact_arithmetic() {
    let mut c = Checker::new();
    for g in exact_kendall()["cases"].as_array().unwrap() {
        let n = g["n"].as_f64().unwrap() as usize;
        for (m, p) in f64s(&g["m"]).iter().zip(f64s(&g["p"])) {
            let mine = kendall_cdf(*m as usize, n);
            let e = rel_err(p, mine);
            assert!(
                e <= 1e-13,
                "n={n} m={m}: exact {p:e} metan {mine:e} (rel {e:e})"
            );
            c.num(
                "exact",
                &format!("n={n} m={m}"),
                &Value::from(p),
                Some(mine),
                0.0,
            );
        }
    }
    c.finish("Kendall CDF vs exact arithmetic", 200);
}

#[test]
fn upper_tails_are_exact_where_r_cancels() {
    // n = 60, T = 1200 concordant pairs: P(T >= 1200) = P(T <= 570) by symmetry
    let n = 60;
    let r_lower = fixture()["pkendall"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["n"].as_f64() == Some(60.0))
        .map(|g| {
            let i = f64s(&g["q"]).iter().position(|&q| q == 1199.0).unwrap();
            f64s(&g["p"])[i]
        })
        .unwrap();
    let r_upper = 1.0 - r_lower; // as R's cor.test computes it
    let exact = exact_kendall()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["n"].as_f64() == Some(60.0))
        .map(|g| {
            let i = f64s(&g["m"]).iter().position(|&m| m == 570.0).unwrap();
            f64s(&g["p"])[i]
        })
        .unwrap();
    let mine = kendall_cdf(570, n);
    assert!(
        rel_err(exact, mine) <= 1e-15,
        "metan {mine:e} exact {exact:e}"
    );
    // R is off by its cancellation (still within the absolute bound used above)
    assert!(
        (r_upper - exact).abs() <= 1e-13,
        "R {r_upper:e} exact {exact:e}"
    );
    assert!(
        rel_err(exact, r_upper) > 1e-10,
        "R's upper tail is no longer inexact?"
    );
}

#[test]
fn fsn_matches_metafor() {
    let mut c = Checker::new();
    for d in fixture()["fsn"].as_array().unwrap() {
        let name = d["dataset"].as_str().unwrap();
        let s = studies(name);
        for f in d["cases"].as_array().unwrap() {
            let ty = f["type"].as_str().unwrap();
            let args = &f["args"];
            let mut spec = FailSafeN::new();
            if let Some(a) = args["alpha"].as_f64() {
                spec = spec.alpha(a);
            }
            if let Some(t) = args["target"].as_f64() {
                spec = spec.target(t);
            }
            if let Some(w) = args["weighted"].as_bool() {
                spec = spec.weighted(w);
            }
            let fit = spec.run(&s).unwrap();
            let label = format!("{name} {ty} {args}");
            match ty {
                "Rosenthal" => {
                    let r = fit.rosenthal();
                    c.num(ty, &format!("{label} fsn"), &f["fsnum"], Some(r.fsn), 0.0);
                    c.num(
                        ty,
                        &format!("{label} p"),
                        &f["p_value"],
                        Some(r.p_value),
                        0.0,
                    );
                }
                "Orwin" => {
                    let r = fit.orwin();
                    c.num(ty, &format!("{label} fsn"), &f["fsnum"], Some(r.fsn), 0.0);
                    c.num(ty, &format!("{label} mean"), &f["mean"], Some(r.mean), 0.0);
                    c.num(
                        ty,
                        &format!("{label} target"),
                        &f["target"],
                        Some(r.target),
                        0.0,
                    );
                }
                "Rosenberg" => {
                    let r = fit.rosenberg();
                    c.num(ty, &format!("{label} fsn"), &f["fsnum"], Some(r.fsn), 0.0);
                    c.num(
                        ty,
                        &format!("{label} p"),
                        &f["p_value"],
                        Some(r.p_value),
                        0.0,
                    );
                    c.num(ty, &format!("{label} mean"), &f["mean"], Some(r.mean), 0.0);
                }
                other => panic!("unknown type {other}"),
            }
        }
    }
    c.finish("fsn", 100);
}

#[test]
fn pet_peese_matches_r_lm() {
    let mut c = Checker::new();
    for d in fixture()["pet_peese"].as_array().unwrap() {
        let name = d["dataset"].as_str().unwrap();
        let s = studies(name);
        let z = 1e-13 * scale(&s);
        let fit = PetPeese::new().run(&s).unwrap();
        for (which, lm) in [("pet", fit.pet()), ("peese", fit.peese())] {
            let r = &d[which];
            let label = format!("{name} {which}");
            coefficient_checks(
                &mut c,
                which,
                &label,
                &r["coefficients"],
                lm.coefficients(),
                z,
            );
            c.num(
                which,
                &format!("{label} sigma"),
                &r["sigma"],
                Some(lm.sigma()),
                0.0,
            );
            c.num(which, &format!("{label} df"), &r["df"], Some(lm.df()), 0.0);
        }
        // the conditional estimator (Stanley & Doucouliagos 2014): PEESE if PET's intercept
        // has two-sided p < 0.10
        let p_pet = d["pet"]["coefficients"][0]["p_value"].as_f64().unwrap();
        let (want, est) = if p_pet < 0.10 {
            (
                PetPeeseChoice::Peese,
                &d["peese"]["coefficients"][0]["estimate"],
            )
        } else {
            (
                PetPeeseChoice::Pet,
                &d["pet"]["coefficients"][0]["estimate"],
            )
        };
        assert_eq!(fit.chosen(), want, "{name}");
        c.num(
            "chosen",
            &format!("{name} estimate"),
            est,
            Some(fit.estimate()),
            z,
        );
    }
    c.finish("PET-PEESE", 100);
}

#[test]
fn printed_output_matches_metafor() {
    let p = &fixture()["printed"];
    let name = p["dataset"].as_str().unwrap();
    let s = studies(name);
    let spec = MetaAnalysis::new();
    let same = |what: &str, mine: String| {
        let theirs = p[what].as_str().unwrap();
        assert_eq!(mine.trim_end(), theirs.trim_end(), "{what}");
    };
    same(
        "regtest",
        RegTest::new().run(&spec, &s).unwrap().to_string(),
    );
    same(
        "regtest_lm",
        RegTest::new()
            .model(RegModel::Lm)
            .run(&spec, &s)
            .unwrap()
            .to_string(),
    );
    same("ranktest", RankTest::new().run(&s).unwrap().to_string());
    same(
        "trimfill",
        TrimFill::new().run(&spec, &s).unwrap().to_string(),
    );
    same(
        "trimfill_r0",
        TrimFill::new()
            .estimator(Estimator::R0)
            .run(&spec, &s)
            .unwrap()
            .to_string(),
    );
    let fsn = FailSafeN::new().run(&s).unwrap().to_string();
    for (what, title) in [
        ("fsn_rosenthal", "Rosenthal"),
        ("fsn_orwin", "Orwin"),
        ("fsn_rosenberg", "Rosenberg"),
    ] {
        let theirs = p[what].as_str().unwrap().trim();
        assert!(
            fsn.contains(theirs),
            "{title} block missing:\n{theirs}\n--- in ---\n{fsn}"
        );
    }
}
