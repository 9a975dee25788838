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

// ---- the O(m p^3) algebra against clubSandwich's formulas, literally -----------------

/// A random clustered model: `m` clusters of 1-4 effects, `p` columns (the last one a
/// dummy of cluster 0 when `cluster_dummy`, which makes `I - H_00` singular), dense SPD
/// working covariances, `W = Phi^-1`.
fn random_model(seed: u64, m: usize, p: usize, cluster_dummy: bool) -> ClusteredModel {
    let mut s = seed
        .wrapping_mul(2862933555777941757)
        .wrapping_add(3037000493);
    let mut u = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut clusters = Vec::new();
    let mut xs = Vec::new();
    let mut row = 0;
    for j in 0..m {
        let n = 1 + ((u() + 0.5) * 4.0) as usize % 4;
        let x = DMatrix::from_fn(n, p, |_, c| {
            if c == 0 {
                1.0
            } else if cluster_dummy && c == p - 1 {
                f64::from(u8::from(j == 0))
            } else {
                u() * 3.0
            }
        });
        let c = DMatrix::from_fn(n, n, |_, _| u());
        let phi = &c * c.transpose() * 0.1
            + DMatrix::from_diagonal_element(n, n, 0.05 + (u() + 0.5) * 0.1);
        let w = phi.clone().cholesky().unwrap().inverse();
        xs.push((x.clone(), w.clone()));
        clusters.push(ClusterBlock {
            rows: (row..row + n).collect(),
            x,
            w,
            working: phi,
            e: DVector::from_fn(n, |_, _| u()),
        });
        row += n;
    }
    let mut xwx = DMatrix::<f64>::zeros(p, p);
    for (x, w) in &xs {
        xwx += x.transpose() * w * x;
    }
    ClusteredModel {
        names: (0..p).map(|i| format!("b{i}")).collect(),
        beta: DVector::from_fn(p, |i, _| i as f64 * 0.1 + 0.2),
        bread: xwx.cholesky().unwrap().inverse(),
        clusters,
        cluster_names: (0..m).map(|j| format!("c{j}")).collect(),
    }
}

/// clubSandwich's `matrix_power(x, -1/2)` (threshold 1e-12).
fn mpow(x: &DMatrix<f64>) -> DMatrix<f64> {
    let e = nalgebra::SymmetricEigen::new(x.clone());
    let f = e
        .eigenvalues
        .map(|l| if l > 1e-12 { l.powf(-0.5) } else { 0.0 });
    &e.eigenvectors * DMatrix::from_diagonal(&f) * e.eigenvectors.transpose()
}

/// Satterthwaite df and HTZ nu the way clubSandwich computes them: A_j from
/// `chol(Theta)`, the J x J arrays P, and `total_variance_mat`.
fn naive(model: &ClusteredModel, c: &DMatrix<f64>) -> (Vec<f64>, f64, DMatrix<f64>) {
    let b = &model.bread;
    let p = model.p();
    let m = model.clusters.len();
    // G_j (p x n_j) = B E_j chol(Theta)', H_j (p x p) = B E_j X_j chol(B)
    let bl = b.clone().cholesky().unwrap().l();
    let mut g = Vec::new();
    let mut h = Vec::new();
    let mut meat = DMatrix::<f64>::zeros(p, p);
    for blk in &model.clusters {
        let n = blk.rows.len();
        let r = blk.working.clone().cholesky().unwrap().l().transpose(); // upper, R'R = Theta
        let ih = DMatrix::identity(n, n) - &blk.x * b * blk.x.transpose() * &blk.w;
        let gm = &r * ih * &blk.working * r.transpose();
        let gm = (&gm + gm.transpose()) * 0.5;
        let a = r.transpose() * mpow(&gm) * &r;
        let e = blk.x.transpose() * &blk.w * a;
        let t = &e * &blk.e;
        meat += &t * t.transpose();
        g.push(b * &e * r.transpose());
        h.push(b * &e * &blk.x * &bl);
    }
    let vcov = b * meat * b;
    // Satterthwaite per coefficient
    let df = (0..p)
        .map(|i| {
            let pm = DMatrix::from_fn(m, m, |j, k| {
                let d = if j == k {
                    g[j].row(i).norm_squared()
                } else {
                    0.0
                };
                d - h[j].row(i).dot(&h[k].row(i))
            });
            pm.trace().powi(2) / pm.norm_squared()
        })
        .collect();
    // HTZ: P[s,t,j,k], Omega, B_jk, total variance
    let q = c.nrows();
    let gc: Vec<DMatrix<f64>> = g.iter().map(|x| c * x).collect();
    let hc: Vec<DMatrix<f64>> = h.iter().map(|x| c * x).collect();
    let pjk = |j: usize, k: usize| {
        DMatrix::from_fn(q, q, |s, t| {
            let d = if j == k {
                gc[j].row(s).dot(&gc[j].row(t))
            } else {
                0.0
            };
            d - hc[j].row(s).dot(&hc[k].row(t))
        })
    };
    let mut omega = DMatrix::<f64>::zeros(q, q);
    for j in 0..m {
        omega += pjk(j, j);
    }
    let o = mpow(&omega);
    let mut total = 0.0;
    for j in 0..m {
        for k in 0..m {
            let bjk = &o * pjk(j, k) * &o;
            for s in 0..q {
                for t in 0..q {
                    total += bjk[(s, t)] * bjk[(t, s)] + bjk[(s, s)] * bjk[(t, t)];
                }
            }
        }
    }
    (df, (q * (q + 1)) as f64 / total, vcov)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// The one-pass df and HTZ nu equal clubSandwich's pairwise computation (1e-9), with and
    /// without a singular I - H_jj, for 1-3 constraints.
    #[test]
    fn fast_df_equal_clubsandwich_pairwise(
        seed in 0u64..u64::MAX,
        m in 3usize..9,
        p in 1usize..4,
        dummy in proptest::bool::ANY,
        q in 1usize..4,
    ) {
        let p = p.min(m - 1);
        let dummy = dummy && p >= 2;
        let model = random_model(seed, m, p, dummy);
        let q = q.min(p);
        let c = DMatrix::from_fn(q, p, |r, col| if col == r { 1.0 } else if col == p - 1 { 0.5 } else { 0.0 });
        let fit = model.robust(&Settings::new(RobustKind::CR2, 95.0)).unwrap();
        let (df, nu, vcov) = naive(&model, &c);
        for (i, co) in fit.coefficients().iter().enumerate() {
            let d = co.df.unwrap();
            proptest::prop_assert!(rel_err(d, df[i]) < 1e-9, "df {} vs {}", d, df[i]);
            proptest::prop_assert!(d > 0.0 && d <= m as f64 + 1e-9);
            for j in 0..p {
                proptest::prop_assert!(rel_err(fit.vcov()[i][j], vcov[(i, j)]) < 1e-9 || (fit.vcov()[i][j] - vcov[(i, j)]).abs() < 1e-13);
            }
        }
        // (the Wald statistic itself needs C V C' positive definite, which a CR2 covariance
        // from few clusters need not be; nu does not)
        let ours = super::satterthwaite::htz_nu(fit.pieces.as_deref().unwrap(), &c, 1e-12);
        proptest::prop_assert!(rel_err(ours, nu) < 1e-9, "HTZ nu {} vs {}", ours, nu);
    }
}

#[test]
fn non_pd_working_block_names_the_cluster() {
    let mut model = random_model(1, 4, 2, false);
    let n = model.clusters[2].rows.len();
    model.clusters[2].working = DMatrix::from_element(n, n, 1.0) - DMatrix::identity(n, n) * 2.0;
    let e = model
        .robust(&Settings::new(RobustKind::CR2, 95.0))
        .unwrap_err();
    assert_eq!(
        e,
        crate::MetaError::InvalidCluster {
            cluster: "c2".into(),
            reason: "the working covariance block is not positive definite".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "cluster `c2`: the working covariance block is not positive definite"
    );
}

#[test]
fn too_few_clusters_for_cr2_and_cr1() {
    let model = random_model(2, 3, 3, false);
    for kind in [RobustKind::CR2, RobustKind::CR1] {
        assert_eq!(
            model.robust(&Settings::new(kind, 95.0)).unwrap_err(),
            crate::MetaError::TooFewClusters {
                analysis: format!("cluster-robust inference ({kind}) with 3 coefficients"),
                needed: 4,
                found: 3
            }
        );
    }
}

/// The diagonal fast path (univariate fits, robu) equals the general dense path.
#[test]
fn diagonal_fast_path_equals_dense_blocks() {
    use super::{DiagonalSource, Source};
    let k = 40;
    let mut s = 11u64;
    let mut u = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let ids: Vec<String> = (0..k).map(|i| format!("c{}", (i * 7) % 9)).collect();
    let clusters = crate::data::Clusters::new(&ids).unwrap();
    let x = DMatrix::from_fn(k, 3, |_, c| if c == 0 { 1.0 } else { u() * 2.0 });
    let w: Vec<f64> = (0..k).map(|_| 1.0 / (0.02 + u() * 0.2)).collect();
    let e: Vec<f64> = (0..k).map(|_| u() - 0.5).collect();
    let bread = super::univariate::bread_of(&x, &w).unwrap();
    let src = DiagonalSource {
        names: vec!["intrcpt".into(), "a".into(), "b".into()],
        beta: DVector::from_vec(vec![0.1, 0.2, 0.3]),
        bread,
        x: &x,
        w,
        e,
        clusters: &clusters,
    };
    let dense = ClusteredModel {
        names: src.names.clone(),
        beta: src.beta.clone(),
        bread: src.bread.clone(),
        clusters: (0..src.len()).map(|j| src.block(j).into_owned()).collect(),
        cluster_names: clusters.names().to_vec(),
    };
    let mut ck = Checker::new(1e-12);
    for kind in [RobustKind::CR2, RobustKind::CR1] {
        let st = Settings::new(kind, 95.0);
        let floor = super::EigenFloor::ClubSandwich(1.0);
        let a = super::fit::robust(&src, &st, &floor).unwrap();
        let b = dense.robust(&st).unwrap();
        for (p, q) in a.coefficients().iter().zip(b.coefficients()) {
            ck.num("fast vs dense", &format!("{kind} se"), p.se, q.se);
            ck.num(
                "fast vs dense",
                &format!("{kind} df"),
                p.df.unwrap(),
                q.df.unwrap(),
            );
        }
        let ta = a.test_zero(&["a", "b"]).unwrap();
        let tb = b.test_zero(&["a", "b"]).unwrap();
        ck.num(
            "fast vs dense",
            &format!("{kind} F"),
            ta.statistic,
            tb.statistic,
        );
        ck.num(
            "fast vs dense",
            &format!("{kind} df2"),
            ta.df_denom.unwrap(),
            tb.df_denom.unwrap(),
        );
    }
    ck.report("diagonal fast path vs dense blocks");
}
