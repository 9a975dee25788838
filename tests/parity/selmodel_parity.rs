//! Parity of the selection models with metafor 3.8-1 `selmodel`, against
//! `tests/fixtures/selmodel.json` (written by `tests/fixtures/generate_selmodel.R`).
//!
//! Every case carries metafor's own result ("metafor": `selmodel()` with its defaults) and
//! the same maximum polished in R ("reference": Newton steps on metafor's own likelihood
//! function with `integrate(rel.tol = 1e-12)`, numDeriv gradients and metafor's
//! `numDeriv::hessian(r = 6)` for the standard errors; see the generator). metan is
//! compared with the reference at the tolerances of [`tol`], which are those the R
//! reference itself reaches:
//!
//! * the maximum (estimates, tau^2, deltas) and the log-likelihood are located to the
//!   accuracy of R's numerical gradient of an integral computed to 1e-12;
//! * the standard errors are numDeriv's Richardson-extrapolated second differences of that
//!   likelihood, which carry its integration error divided by the squared step;
//! * where R's `integrate()` fails at 1e-12 (a few two-sided and beta cases, counted in
//!   the generator's log) the reference is looser still, and the test reports it.
//!
//! How far metafor's defaults (optim BFGS with reltol 1e-8 and finite-difference
//! gradients, integrate at rel.tol 1.2e-4) are from the reference is printed per type and
//! field ("metafor reached"): that is the tolerance at which metan matches metafor as users
//! run it.
//!
//! metafor's defaults against the polished maximum, worst over the fixture's cases (the
//! "metafor reached" column; see the test's output per type): log-likelihood 1.0e-4,
//! LRT 5.2e-4, estimates 1.7e-1 (landenberger beta), tau^2 1.1e-2, SEs 5.7e-1, delta SEs
//! 4.4e-1; deltas 1.0 where the likelihood is flat in delta (a delta running to its bound:
//! metafor stops somewhere on the plateau, metan reports the bound and no SE). The step
//! function (closed-form likelihood) is much closer: ll 1.2e-5, estimates 6.3e-5, SEs 1.8e-3.
//!
//! The fixture may hold a subset of the generator's cases (`meta.not_computed` lists the
//! ones not yet polished: the continuous types take 1-6 minutes each in R); every case it
//! holds is checked. Open (not in the committed fixture): of 41 further cases polished
//! later, 36 pass and 5 do not: bangertdrowns beta (the R polish stopped with gradient
//! 1e-2; metan's log-likelihood is higher by 2.6e-7), bangertdrowns power, molloy halfnorm,
//! molloy stepfun(0.025,0.5) (estimates 2e-7..1e-4 apart, R polish gradients 2e-8..5e-8),
//! hackshaw beta two-sided, and raudenbush beta (the reference holds delta_1 on its bound,
//! metan does not). Which side is off there is not yet settled.
//!
//! Parameters on a bound: a delta or tau^2 the reference holds on its bound must be the
//! one metan flags (`DeltaEstimate::at_bound`, `SelectionFit::tau2_at_bound`), with no
//! standard error; metafor itself stops near the bound (e.g. delta = 98.27 for a bound of
//! 100, tau^2 = 6e-7 for 0) and reports curvature there.

use std::collections::BTreeMap;

use metan::bias::{Alternative, SelectionFit, SelectionModel, SelectionType};
use metan::{MetaError, MetaRegression, Method, Studies};
use serde_json::Value;

fn fixture() -> &'static Value {
    use std::sync::OnceLock;
    static FX: OnceLock<Value> = OnceLock::new();
    FX.get_or_init(|| serde_json::from_str(include_str!("fixtures/selmodel.json")).expect("parses"))
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

/// Relative tolerance (and an absolute floor for values that are zero in exact
/// arithmetic) of each field.
fn tol(kind: SelectionType, field: &str) -> (f64, f64) {
    let cont = kind.is_continuous();
    match field {
        "ll" | "fit_stats" => (1e-11, 0.0),
        // LRTs are differences of log-likelihoods: absolute error of ll
        "lrt" | "lrt_tau2" | "qm" => (if cont { 1e-7 } else { 1e-8 }, 5e-10),
        "lrt_p" | "lrt_tau2_p" | "qm_p" => (if cont { 1e-7 } else { 1e-8 }, 0.0),
        "beta" | "tau2" | "delta" | "ci" => (if cont { 1e-7 } else { 1e-8 }, 1e-10),
        "se" | "se_tau2" | "se_delta" | "zval" | "pval" | "zval_delta" | "pval_delta" => {
            (if cont { 1e-6 } else { 1e-7 }, 0.0)
        }
        _ => (1e-10, 0.0),
    }
}

#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    checked: usize,
    /// (type, field) -> (worst relative error, case)
    worst: BTreeMap<(String, String), (f64, String)>,
    /// (type, field) -> worst relative distance of metafor's defaults from the reference
    metafor: BTreeMap<(String, String), f64>,
}

impl Checker {
    fn num(
        &mut self,
        kind: SelectionType,
        field: &str,
        label: &str,
        theirs: f64,
        mine: Option<f64>,
    ) {
        let (rel, abs) = tol(kind, field);
        let key = (kind.name().to_string(), field.to_string());
        match (theirs.is_finite(), mine) {
            (false, None) => {}
            (true, Some(m)) => {
                let e = rel_err(theirs, m);
                let ok = e <= rel || (theirs - m).abs() <= abs;
                if !ok {
                    self.failures.push(format!(
                        "{label} {field}: reference {theirs:e} metan {m:e} (rel {e:e})"
                    ));
                }
                let tracked = if (theirs - m).abs() <= abs { 0.0 } else { e };
                let w = self.worst.entry(key).or_insert((0.0, String::new()));
                if tracked >= w.0 {
                    *w = (tracked, label.to_string());
                }
                self.checked += 1;
            }
            (t, m) => self.failures.push(format!(
                "{label} {field}: reference {} metan {m:?}",
                if t { format!("{theirs}") } else { "NA".into() }
            )),
        }
    }

    fn nums(
        &mut self,
        kind: SelectionType,
        field: &str,
        label: &str,
        theirs: &Value,
        mine: &[Option<f64>],
    ) {
        let t = f64s(theirs);
        if t.len() != mine.len() {
            self.failures.push(format!(
                "{label} {field}: {} reference values, {} from metan",
                t.len(),
                mine.len()
            ));
            return;
        }
        for (j, (a, b)) in t.iter().zip(mine).enumerate() {
            self.num(kind, field, &format!("{label}[{j}]"), *a, *b);
        }
    }

    /// Confidence bounds est -/+ z se: their error is that of est plus z times that of
    /// se, so it is measured relative to the interval's scale max(|est|, z se) =
    /// (|lower| + |upper|) / 2 (a bound near 0 has no relative accuracy of its own).
    fn ci(
        &mut self,
        kind: SelectionType,
        label: &str,
        lower: (&Value, &[Option<f64>]),
        upper: (&Value, &[Option<f64>]),
    ) {
        let (tl, tu) = (f64s(lower.0), f64s(upper.0));
        if tl.len() != lower.1.len() || tu.len() != upper.1.len() || tl.len() != tu.len() {
            self.failures.push(format!(
                "{label} ci: {}/{} reference bounds, {}/{} from metan",
                tl.len(),
                tu.len(),
                lower.1.len(),
                upper.1.len()
            ));
            return;
        }
        let (rel, _) = tol(kind, "ci");
        let key = (kind.name().to_string(), "ci".to_string());
        for j in 0..tl.len() {
            let scale = (tl[j].abs() + tu[j].abs()) / 2.0;
            for (side, theirs, mine) in [("lower", tl[j], lower.1[j]), ("upper", tu[j], upper.1[j])]
            {
                match (theirs.is_finite(), mine) {
                    (false, None) => {}
                    (true, Some(m)) => {
                        let e = (theirs - m).abs() / scale.max(theirs.abs()).max(m.abs());
                        if e > rel {
                            self.failures.push(format!(
                                "{label}[{j}] ci {side}: reference {theirs:e} metan {m:e} (rel to the interval {e:e})"
                            ));
                        }
                        let w = self
                            .worst
                            .entry(key.clone())
                            .or_insert((0.0, String::new()));
                        if e >= w.0 {
                            *w = (e, format!("{label}[{j}]"));
                        }
                        self.checked += 1;
                    }
                    (t, m) => self.failures.push(format!(
                        "{label}[{j}] ci {side}: reference {} metan {m:?}",
                        if t { format!("{theirs}") } else { "NA".into() }
                    )),
                }
            }
        }
    }

    fn metafor_distance(
        &mut self,
        kind: SelectionType,
        field: &str,
        reference: &Value,
        metafor: &Value,
    ) {
        let (r, m) = match (reference.as_array(), metafor.as_array()) {
            (Some(_), Some(_)) => (f64s(reference), f64s(metafor)),
            _ => (
                vec![reference.as_f64().unwrap_or(f64::NAN)],
                vec![metafor.as_f64().unwrap_or(f64::NAN)],
            ),
        };
        for (a, b) in r.iter().zip(&m) {
            if a.is_finite() && b.is_finite() {
                let e = rel_err(*a, *b);
                let w = self
                    .metafor
                    .entry((kind.name().to_string(), field.to_string()))
                    .or_insert(0.0);
                *w = w.max(e);
            }
        }
    }
}

fn studies(case: &Value) -> Studies {
    let ds = &fixture()["datasets"][case["dataset"].as_str().unwrap()];
    let mut s = Studies::from_variances(f64s(&ds["yi"]), f64s(&ds["vi"])).unwrap();
    for m in case["mods"].as_array().unwrap() {
        let name = m.as_str().unwrap();
        let col = ds["mods"][name].as_array().unwrap();
        if col[0].is_string() {
            let v: Vec<String> = col
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            s = s.with_attribute(name, v).unwrap();
        } else {
            s = s.with_moderator(name, f64s(&ds["mods"][name])).unwrap();
        }
    }
    s
}

fn model(case: &Value) -> SelectionModel {
    let kind: SelectionType = case["type"].as_str().unwrap().parse().unwrap();
    let alt: Alternative = case["alternative"].as_str().unwrap().parse().unwrap();
    let method: Method = case["method"].as_str().unwrap().parse().unwrap();
    let mods: Vec<String> = case["mods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    let mut m = SelectionModel::new(kind)
        .alternative(alt)
        .base(MetaRegression::new().method(method).moderators(mods));
    if let Some(st) = case["steps"].as_array() {
        m = m.steps(st.iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>());
    }
    m
}

fn check_case(c: &mut Checker, case: &Value, fit: &SelectionFit) {
    let id = case["id"].as_str().unwrap();
    let kind = fit.kind();
    let r = &case["reference"];
    let mf = &case["metafor"];
    // bound flags first: they decide which numbers exist
    let held: Vec<bool> = r["delta_held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    let flagged: Vec<bool> = fit.deltas().iter().map(|d| d.at_bound.is_some()).collect();
    if held != flagged {
        c.failures.push(format!(
            "{id}: deltas on a bound: reference {held:?} metan {flagged:?}"
        ));
        return;
    }
    if r["tau2_held"].as_bool().unwrap() != fit.tau2_at_bound() {
        c.failures.push(format!(
            "{id}: tau2 on the bound: reference {} metan {}",
            r["tau2_held"],
            fit.tau2_at_bound()
        ));
        return;
    }
    let co = fit.coefficients();
    let some = |v: Vec<f64>| v.into_iter().map(Some).collect::<Vec<_>>();
    c.nums(
        kind,
        "beta",
        id,
        &r["beta"],
        &some(co.iter().map(|x| x.estimate).collect()),
    );
    let fin = |x: f64| x.is_finite().then_some(x);
    c.nums(
        kind,
        "se",
        id,
        &r["se"],
        &co.iter().map(|x| fin(x.se)).collect::<Vec<_>>(),
    );
    c.nums(
        kind,
        "zval",
        id,
        &r["zval"],
        &co.iter().map(|x| fin(x.statistic)).collect::<Vec<_>>(),
    );
    c.nums(
        kind,
        "pval",
        id,
        &r["pval"],
        &co.iter().map(|x| fin(x.p_value)).collect::<Vec<_>>(),
    );
    c.ci(
        kind,
        id,
        (
            &r["ci_lb"],
            &co.iter().map(|x| fin(x.ci_lower)).collect::<Vec<_>>(),
        ),
        (
            &r["ci_ub"],
            &co.iter().map(|x| fin(x.ci_upper)).collect::<Vec<_>>(),
        ),
    );
    c.num(
        kind,
        "tau2",
        id,
        r["tau2"].as_f64().unwrap(),
        Some(fit.tau2()),
    );
    c.num(
        kind,
        "se_tau2",
        id,
        r["se_tau2"].as_f64().unwrap_or(f64::NAN),
        fit.tau2_se(),
    );
    let ds = fit.deltas();
    c.nums(kind, "delta", id, &r["delta"], &some(fit.delta()));
    c.nums(
        kind,
        "se_delta",
        id,
        &r["se_delta"],
        &ds.iter().map(|d| d.se).collect::<Vec<_>>(),
    );
    c.nums(
        kind,
        "zval_delta",
        id,
        &r["zval_delta"],
        &ds.iter().map(|d| d.statistic).collect::<Vec<_>>(),
    );
    c.nums(
        kind,
        "pval_delta",
        id,
        &r["pval_delta"],
        &ds.iter().map(|d| d.p_value).collect::<Vec<_>>(),
    );
    c.ci(
        kind,
        id,
        (
            &r["ci_lb_delta"],
            &ds.iter().map(|d| d.ci_lower).collect::<Vec<_>>(),
        ),
        (
            &r["ci_ub_delta"],
            &ds.iter().map(|d| d.ci_upper).collect::<Vec<_>>(),
        ),
    );
    c.num(
        kind,
        "ll",
        id,
        r["ll"].as_f64().unwrap(),
        Some(fit.loglik()),
    );
    c.num(
        kind,
        "ll",
        id,
        r["ll0"].as_f64().unwrap(),
        Some(fit.loglik_unadjusted()),
    );
    c.num(kind, "lrt", id, r["lrt"].as_f64().unwrap(), Some(fit.lrt()));
    c.num(
        kind,
        "lrt_p",
        id,
        r["lrt_p"].as_f64().unwrap_or(f64::NAN),
        fit.lrt_p_value(),
    );
    if fit.lrt_df() as u64 != r["lrt_df"].as_u64().unwrap() {
        c.failures
            .push(format!("{id}: lrt df {} vs {}", fit.lrt_df(), r["lrt_df"]));
    }
    let (lt, lp) = fit
        .lrt_tau2()
        .map_or((None, None), |(a, b)| (Some(a), Some(b)));
    c.num(kind, "lrt_tau2", id, r["lrt_tau2"].as_f64().unwrap(), lt);
    c.num(
        kind,
        "lrt_tau2_p",
        id,
        r["lrt_tau2_p"].as_f64().unwrap(),
        lp,
    );
    let (qm, qp) = fit.qm().map_or((None, None), |(a, b)| (Some(a), Some(b)));
    c.num(kind, "qm", id, r["qm"].as_f64().unwrap_or(f64::NAN), qm);
    c.num(kind, "qm_p", id, r["qm_p"].as_f64().unwrap_or(f64::NAN), qp);
    // exact things metafor computes directly
    // the p-values of the studies: erfc(z/sqrt 2) (metan) and pnorm (R) of the same
    // z = y/sqrt(v); the rounding of z/sqrt(2) alone moves a tail probability by
    // z^2 eps relative (z = 13 at p = 1e-40), so that is added to the tolerance
    let theirs = f64s(&mf["pvals"]);
    let mine = fit.pvals();
    let ds = &fixture()["datasets"][case["dataset"].as_str().unwrap()];
    let z: Vec<f64> = f64s(&ds["yi"])
        .iter()
        .zip(f64s(&ds["vi"]))
        .map(|(y, v)| y / v.sqrt())
        .collect();
    if theirs.len() != mine.len() || z.len() != mine.len() {
        c.failures.push(format!(
            "{id}: {} p-values from metafor, {} from metan",
            theirs.len(),
            mine.len()
        ));
    } else {
        for j in 0..mine.len() {
            let e = rel_err(theirs[j], mine[j]);
            let allowed = 1e-14 + 2.0 * f64::EPSILON * z[j] * z[j];
            if e > allowed {
                c.failures.push(format!(
                    "{id}[{j}] pvals: metafor {:e} metan {:e} (rel {e:e}, z {})",
                    theirs[j], mine[j], z[j]
                ));
            }
            let key = (kind.name().to_string(), "pvals".to_string());
            let w = c.worst.entry(key).or_insert((0.0, String::new()));
            if e >= w.0 {
                *w = (e, format!("{id}[{j}]"));
            }
            c.checked += 1;
        }
    }
    if let Some(k) = mf["ptable_k"].as_array() {
        let mine: Vec<f64> = fit
            .ptable()
            .map(|t| t.iter().map(|r| r.k as f64).collect())
            .unwrap_or_default();
        let theirs: Vec<f64> = k.iter().map(|x| x.as_f64().unwrap()).collect();
        if theirs != mine {
            c.failures
                .push(format!("{id}: ptable {theirs:?} vs {mine:?}"));
        }
        c.checked += theirs.len();
    }
    // fit statistics from the reference log-likelihood
    let ll = r["ll"].as_f64().unwrap();
    let parms = fit.parms() as f64;
    let k = fit.k() as f64;
    c.num(
        kind,
        "fit_stats",
        id,
        -2.0 * ll + 2.0 * parms,
        Some(fit.fit_stats().aic),
    );
    c.num(
        kind,
        "fit_stats",
        id,
        -2.0 * ll + parms * k.ln(),
        Some(fit.fit_stats().bic),
    );
    if (mf["fit_stats"]["aic"].as_f64().unwrap()
        - (-2.0 * mf["ll"].as_f64().unwrap() + 2.0 * parms))
        .abs()
        > 1e-9
    {
        c.failures.push(format!(
            "{id}: metan counts {parms} parameters, metafor's AIC does not"
        ));
    }
    // how far metafor's defaults are from the reference
    for (f, rk, mk) in [
        ("beta", "beta", "beta"),
        ("se", "se", "se"),
        ("tau2", "tau2", "tau2"),
        ("se_tau2", "se_tau2", "se_tau2"),
        ("delta", "delta", "delta"),
        ("se_delta", "se_delta", "se_delta"),
        ("ll", "ll", "ll"),
        ("lrt", "lrt", "lrt"),
    ] {
        c.metafor_distance(kind, f, &r[rk], &mf[mk]);
    }
}

#[test]
fn selmodel_matches_metafor() {
    let cases = fixture()["cases"].as_array().unwrap();
    let mut c = Checker::default();
    let (mut fitted, mut input_errors, mut metafor_failed) = (0, 0, 0);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let s = studies(case);
        let res = model(case).fit(&s);
        if let Some(err) = case["error"].as_str() {
            if err.contains("do not contain any observed p-values") {
                // metafor refuses an interval without p-values: so must metan, naming it
                match res {
                    Err(MetaError::InvalidOption { option, reason, .. })
                        if option == "steps" && reason.contains("no observed p-value") =>
                    {
                        input_errors += 1
                    }
                    other => c
                        .failures
                        .push(format!("{id}: metafor: {err}; metan: {other:?}")),
                }
            } else {
                // metafor's optimiser failed; metan must still give a converged, finite fit
                metafor_failed += 1;
                match res {
                    Ok(f) if f.converged() && f.loglik().is_finite() => {
                        eprintln!(
                            "  {id}: metafor failed ({err}); metan converged, ll {}",
                            f.loglik()
                        )
                    }
                    other => c
                        .failures
                        .push(format!("{id}: metafor: {err}; metan: {other:?}")),
                }
            }
            continue;
        }
        match res {
            Ok(fit) => {
                if !fit.converged() {
                    c.failures.push(format!(
                        "{id}: metan did not converge: {:?}",
                        fit.convergence()
                    ));
                }
                check_case(&mut c, case, &fit);
                fitted += 1;
            }
            Err(e) => c.failures.push(format!("{id}: metan failed: {e}")),
        }
    }
    eprintln!(
        "selmodel parity: {} cases ({fitted} fitted, {input_errors} refused like metafor, {metafor_failed} where metafor's optimiser failed); {} numbers",
        cases.len(),
        c.checked
    );
    eprintln!(
        "largest relative error of metan against the reference, and metafor's defaults against it:"
    );
    eprintln!(
        "  {:9} {:11} {:>10} {:>16}  case",
        "type", "field", "metan", "metafor reached"
    );
    for ((t, f), (e, w)) in &c.worst {
        let m = c.metafor.get(&(t.clone(), f.clone()));
        eprintln!(
            "  {t:9} {f:11} {e:10.2e} {:>16}  {w}",
            m.map_or("-".to_string(), |m| format!("{m:.2e}"))
        );
    }
    assert!(
        c.failures.is_empty(),
        "{} mismatches:\n{}",
        c.failures.len(),
        c.failures[..c.failures.len().min(80)].join("\n")
    );
    // every case the fixture holds is fitted, refused as metafor refuses it, or one where
    // metafor's optimiser failed (the fixture's meta.not_computed lists the cases the
    // generator has not yet polished)
    assert_eq!(fitted + input_errors + metafor_failed, cases.len());
    assert!(fitted >= 40, "only {fitted} cases fitted");
}

/// The numbers of a printed line and the line with each number masked by `#`s of the
/// same width.
fn mask(line: &str) -> (String, Vec<f64>) {
    let mut out = String::new();
    let mut nums = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c.is_ascii_digit()
            || (c == '-'
                && i + 1 < chars.len()
                && chars[i + 1].is_ascii_digit()
                && (i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '('));
        if starts && (i == 0 || !chars[i - 1].is_ascii_alphabetic() && chars[i - 1] != '^') {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let tok: String = chars[i..j].iter().collect();
            if let Ok(x) = tok.parse::<f64>() {
                nums.push(x);
                out.push_str(&"#".repeat(j - i));
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    (out, nums)
}

#[test]
fn printed_output_matches_metafor() {
    // metafor prints its own maximum (optim and integrate at their defaults), metan the
    // polished one: the layout must be identical, the printed numbers within metafor's
    // distance from the maximum (1e-3 relative, or 6 units of the 4th decimal). Where
    // metafor's own estimates or SEs are farther than 1e-3 from the polished maximum
    // (hackshaw beta: its SE of the estimate is 0.7% off), its printed numbers are not a
    // reference (metan's are compared with the maximum in selmodel_matches_metafor):
    // only the layout is compared, and the case is counted.
    let mut n = 0;
    let mut numbers = 0;
    let mut layout_only = Vec::new();
    for case in fixture()["cases"].as_array().unwrap() {
        let Some(printed) = case["printed"].as_str() else {
            continue;
        };
        let (mf, r) = (&case["metafor"], &case["reference"]);
        let far = ["beta", "se", "tau2", "delta", "se_delta"].iter().any(|k| {
            let (a, b) = match (mf[*k].as_array(), r[*k].as_array()) {
                (Some(_), Some(_)) => (f64s(&mf[*k]), f64s(&r[*k])),
                _ => (
                    vec![mf[*k].as_f64().unwrap_or(f64::NAN)],
                    vec![r[*k].as_f64().unwrap_or(f64::NAN)],
                ),
            };
            a.iter()
                .zip(&b)
                .any(|(x, y)| x.is_finite() && y.is_finite() && rel_err(*x, *y) > 1e-3)
        });
        if far {
            layout_only.push(case["id"].as_str().unwrap().to_string());
        }
        let fit = model(case).fit(&studies(case)).unwrap();
        let mine = fit.to_string();
        let lines = |s: &str| {
            s.lines()
                .map(|l| l.trim_end().to_string())
                .skip_while(|l| l.is_empty())
                .collect::<Vec<_>>()
        };
        let (a, b) = (lines(printed), lines(mine.trim_end_matches('\n')));
        assert_eq!(a.len(), b.len(), "{}:\n{printed}\n---\n{mine}", case["id"]);
        for (la, lb) in a.iter().zip(&b) {
            let (ma, na) = mask(la);
            let (mb, nb) = mask(lb);
            assert_eq!(
                ma, mb,
                "{}: layout\nmetafor: {la}\nmetan:   {lb}",
                case["id"]
            );
            assert_eq!(na.len(), nb.len(), "{}: {la} / {lb}", case["id"]);
            if far {
                continue;
            }
            for (x, y) in na.iter().zip(&nb) {
                assert!(
                    (x - y).abs() <= 6e-4 || (x - y).abs() <= 1e-3 * x.abs().max(y.abs()),
                    "{}: {x} vs {y}\nmetafor: {la}\nmetan:   {lb}",
                    case["id"]
                );
                numbers += 1;
            }
        }
        n += 1;
    }
    eprintln!(
        "printed outputs compared: {n} ({numbers} printed numbers); layout only, metafor's defaults >1e-3 from the maximum: {layout_only:?}"
    );
    assert!(layout_only.len() < n);
    assert!(n >= 4);
}
