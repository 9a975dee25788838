//! Invariants of the selection models: no selection reproduces the unadjusted ML model,
//! mirrored data with the mirrored alternative give the mirrored fit, rescaled effects
//! (y -> c y, v -> c^2 v) give the rescaled fit, the order of the studies does not matter, and bad input gives typed errors naming the option.
//!
//! Data are SIMULATED (drawn from a seeded ChaCha8 generator) unless named.

use metan::bias::{Alternative, SelectionFit, SelectionModel, SelectionType};
use metan::{MetaError, MetaRegression, Method, Studies};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v) = (uniform(rng).max(1e-300), uniform(rng));
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// SIMULATED: k studies, vi in [0.005, 0.2], yi ~ N(mu + 0.1 x, vi + tau2).
fn simulated(seed: u64, k: usize, mu: f64, tau2: f64) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut y = Vec::new();
    let mut v = Vec::new();
    let mut x = Vec::new();
    for _ in 0..k {
        let vi = 0.005 + 0.195 * uniform(&mut rng);
        let xi = normal(&mut rng);
        y.push(mu + 0.1 * xi + normal(&mut rng) * (vi + tau2).sqrt());
        v.push(vi);
        x.push(xi);
    }
    Studies::from_variances(y, v)
        .unwrap()
        .with_moderator("x", x)
        .unwrap()
}

fn model(kind: SelectionType) -> SelectionModel {
    let m = SelectionModel::new(kind);
    if kind == SelectionType::StepFunction {
        m.steps([0.025, 0.5])
    } else {
        m
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-8)
}

/// A fit whose parameters the likelihood identifies: every estimated delta inside its
/// bounds with a standard error.
fn identified(f: &SelectionFit) -> bool {
    f.deltas()
        .iter()
        .all(|d| d.fixed || (d.at_bound.is_none() && d.se.is_some_and(f64::is_finite)))
}

/// The same fit up to the sign of the effects. Where a delta runs to its bound the
/// likelihood is flat or unbounded there and the other parameters are not identified:
/// the optimiser's end point then depends on rounding (the order of the studies; seen:
/// beta seed 990, delta_1 at 1e-5, ll 3689.31407 vs 3689.31406 after a permutation), so
/// the fits are only required to report it (a delta on its bound or without a standard
/// error) with finite numbers.
fn assert_same_fit(a: &SelectionFit, b: &SelectionFit, sign: f64, what: &str) {
    if !(identified(a) && identified(b)) {
        // the likelihood may even be unbounded there (see rescaled_effects_give_the_rescaled_fit)
        for f in [a, b] {
            assert!(f.loglik().is_finite() && f.estimate().is_finite(), "{what}");
        }
        return;
    }
    if !close(a.loglik(), b.loglik(), 1e-7) {
        // two local maxima (see rescaled_effects_give_the_rescaled_fit): the optimiser's
        // damped steps on an indefinite Hessian depend on rounding, hence on the order
        // of the studies. (Known limitation: no multi-start search.)
        assert!(a.loglik().is_finite() && b.loglik().is_finite(), "{what}");
        return;
    }
    // Parameters agree to 1e-8 relative, or, along a flat direction of the likelihood
    // (seen: power seed 59, beta -17.998 vs -17.792 after a permutation, ll equal), to
    // 1e-4 of their standard error: the optimiser stops on Newton steps measured in
    // standard errors, so that is the precision a flat likelihood determines them to.
    let same = |x: f64, y: f64, se: Option<f64>| {
        close(x, y, 1e-8) || se.is_some_and(|se| (x - y).abs() <= 1e-4 * se)
    };
    for (x, y) in a.coefficients().iter().zip(b.coefficients()) {
        assert!(
            same(x.estimate, sign * y.estimate, Some(x.se.max(y.se))),
            "{what}: beta {} vs {} (se {})",
            x.estimate,
            y.estimate,
            x.se
        );
        assert!(
            close(x.se, y.se, 1e-6) || !close(x.estimate, sign * y.estimate, 1e-8),
            "{what}: se {} vs {}",
            x.se,
            y.se
        );
    }
    assert!(
        same(a.tau2(), b.tau2(), a.tau2_se()),
        "{what}: tau2 {} vs {}",
        a.tau2(),
        b.tau2()
    );
    for (x, y) in a.deltas().iter().zip(b.deltas()) {
        assert!(
            same(x.estimate, y.estimate, x.se),
            "{what}: delta {} vs {}",
            x.estimate,
            y.estimate
        );
    }
    assert!(
        close(a.loglik(), b.loglik(), 1e-11),
        "{what}: ll {} vs {}",
        a.loglik(),
        b.loglik()
    );
    assert_eq!(a.tau2_at_bound(), b.tau2_at_bound(), "{what}");
}

#[test]
fn no_selection_reproduces_the_unadjusted_ml_fit() {
    // every delta fixed at its value under no selection: the model is rma(method = "ML")
    let s = simulated(7, 25, 0.3, 0.04);
    for (mods, base) in [
        (false, MetaRegression::new().method(Method::ML)),
        (
            true,
            MetaRegression::new().method(Method::ML).moderator("x"),
        ),
    ] {
        let ml = base.clone().fit(&s).unwrap();
        for kind in SelectionType::ALL {
            let null = kind.null_delta();
            let fit = model(kind)
                .base(base.clone())
                .delta(vec![Some(null)])
                .fit(&s)
                .unwrap();
            let what = format!("{kind} mods={mods}");
            for (a, b) in fit.coefficients().iter().zip(ml.coefficients()) {
                assert!(
                    close(a.estimate, b.estimate, 1e-10),
                    "{what}: {} vs {}",
                    a.estimate,
                    b.estimate
                );
            }
            assert!(
                close(fit.tau2(), ml.tau2(), 1e-9),
                "{what}: tau2 {} vs {}",
                fit.tau2(),
                ml.tau2()
            );
            assert!(
                (fit.loglik() - ml.fit_stats().ll_ml).abs() < 1e-11,
                "{what}: ll {} vs {}",
                fit.loglik(),
                ml.fit_stats().ll_ml
            );
            assert!(fit.lrt() < 1e-10, "{what}: LRT {}", fit.lrt());
            assert_eq!(fit.lrt_df(), 0);
            assert_eq!(fit.lrt_p_value(), None);
            assert!(fit.deltas().iter().all(|d| d.fixed && d.se.is_none()));
        }
    }
}

#[test]
fn reml_base_gives_the_ml_selection_model() {
    // metafor refits a REML model by ML before fitting the selection model
    let s = simulated(11, 30, 0.2, 0.05);
    for kind in [SelectionType::StepFunction, SelectionType::HalfNormal] {
        let a = model(kind).method(Method::ML).fit(&s).unwrap();
        let b = model(kind).method(Method::REML).fit(&s).unwrap();
        assert_eq!(a.coefficients(), b.coefficients());
        assert_eq!(a.loglik(), b.loglik());
        assert_eq!(b.method(), Method::REML);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn mirrored_data_give_the_mirrored_fit(seed in 0u64..1000, type_ix in 0usize..6, two in proptest::bool::ANY) {
        let kind = SelectionType::ALL[type_ix];
        let s = simulated(seed, 20, 0.25, 0.03);
        let neg = Studies::from_variances(s.yi().iter().map(|y| -y).collect::<Vec<_>>(), s.vi().to_vec()).unwrap();
        let alt = if two { Alternative::TwoSided } else { Alternative::Greater };
        let a = model(kind).alternative(alt).fit(&s);
        let b = model(kind).alternative(alt.flipped()).fit(&neg);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                // where the optimiser cannot converge (seen: beta seed 738, a likelihood
                // without a maximum: 200 iterations one way, no progress the other way),
                // both fits must say so
                prop_assert_eq!(a.converged(), b.converged(), "{} {} seed {}: {:?} vs {:?}", kind, alt, seed, a.convergence(), b.convergence());
                if !a.converged() {
                    return Ok(());
                }
                assert_same_fit(&a, &b, -1.0, &format!("{kind} {alt} seed {seed}"));
            }
            // an interval without p-values: then in both
            (Err(ea), Err(eb)) => prop_assert_eq!(ea, eb),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a.err(), b.err()),
        }
    }

    #[test]
    fn the_order_of_the_studies_does_not_matter(seed in 0u64..1000, type_ix in 0usize..6) {
        let kind = SelectionType::ALL[type_ix];
        let s = simulated(seed, 18, 0.3, 0.02);
        let k = s.k();
        let perm: Vec<usize> = (0..k).map(|i| (i * 7 + 3) % k).collect();
        let y: Vec<f64> = perm.iter().map(|&i| s.yi()[i]).collect();
        let v: Vec<f64> = perm.iter().map(|&i| s.vi()[i]).collect();
        let p = Studies::from_variances(y, v).unwrap();
        if let (Ok(a), Ok(b)) = (model(kind).fit(&s), model(kind).fit(&p)) {
            assert_same_fit(&a, &b, 1.0, &format!("{kind} seed {seed}"));
        }
    }

    #[test]
    fn rescaled_effects_give_the_rescaled_fit(seed in 0u64..1000, type_ix in 0usize..6, c in 0.05f64..20.0) {
        // y -> c y, v -> c^2 v leaves every p-value, hence w, unchanged: beta and its SE
        // scale by c, tau^2 by c^2, the deltas stay, each density gains 1/c (ll - k ln c)
        let kind = SelectionType::ALL[type_ix];
        let s = simulated(seed, 20, 0.25, 0.03);
        let r = Studies::from_variances(
            s.yi().iter().map(|y| c * y).collect::<Vec<_>>(),
            s.vi().iter().map(|v| c * c * v).collect::<Vec<_>>(),
        ).unwrap();
        // the start of tau^2 rescaled too (metafor's default start, tau^2 + 0.001, is not
        // scale-equivariant: with c = 0.05 the half-normal model of seed 721 reached another
        // local maximum from it, ll 53.148 against the rescaled 53.180)
        let t0 = 0.01;
        match (model(kind).tau2_init(t0).fit(&s), model(kind).tau2_init(c * c * t0).fit(&r)) {
            (Ok(a), Ok(b)) => {
                let what = format!("{kind} seed {seed} c {c}");
                let shifted = a.loglik() - s.k() as f64 * c.ln();
                if !(identified(&a) && identified(&b)) {
                    // A delta on its bound. The beta model's likelihood can then be unbounded
                    // (w ~ p^(delta_1 - 1) with delta_1 -> 1e-5 and a p-value near 0, as
                    // tau^2 -> 0): seed 405, c = 1.088 stopped at ll -3.57 from one start and
                    // reached 4923.5 from the rescaled one. No maximum exists to compare; the
                    // fits report the delta on its bound or without a standard error
                    // (`identified`), with finite numbers.
                    // (Known limitation: the fit does not yet report the likelihood as
                    // unbounded.)
                    for f in [&a, &b] {
                        prop_assert!(f.loglik().is_finite() && f.estimate().is_finite(), "{}", what);
                    }
                    return Ok(());
                }
                if !close(shifted, b.loglik(), 1e-7) {
                    // Two local maxima: the likelihood of selection models can be multimodal
                    // and the optimiser (like metafor's) climbs to the one its start leads
                    // to; its damped steps on an indefinite Hessian are not scale-equivariant.
                    // Seen: beta seed 815, c = 6.47, ll -6.156 and -5.996 (+ k ln c), each
                    // reached from both scales by some start; power seed 557, c = 16.6: one
                    // of the two stopped unconverged, and says so. (Known limitation: no
                    // multi-start search for the global maximum.)
                    prop_assert!(a.loglik().is_finite() && b.loglik().is_finite(), "{}", what);
                    return Ok(());
                }
                prop_assert!(close(c * a.estimate(), b.estimate(), 1e-8), "{}: {} vs {}", what, a.estimate(), b.estimate());
                prop_assert!(close(c * a.se(), b.se(), 1e-6), "{}: se {} vs {}", what, a.se(), b.se());
                prop_assert!((c * c * a.tau2() - b.tau2()).abs() <= 1e-8 * (c * c) * a.tau2().max(1e-4), "{}: tau2 {} vs {}", what, a.tau2(), b.tau2());
                prop_assert_eq!(a.tau2_at_bound(), b.tau2_at_bound());
                for (x, y) in a.delta().iter().zip(b.delta()) {
                    prop_assert!(close(*x, y, 1e-7), "{}: delta {} vs {}", what, x, y);
                }
                prop_assert!((shifted - b.loglik()).abs() <= 1e-10 * (1.0 + shifted.abs()), "{}: ll {} vs {}", what, shifted, b.loglik());
                prop_assert!((a.lrt() - b.lrt()).abs() <= 1e-8 * (1.0 + a.lrt()));
            }
            (Err(ea), Err(eb)) => prop_assert_eq!(ea, eb),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a.err(), b.err()),
        }
    }

    #[test]
    fn estimates_are_in_range_and_intervals_contain_them(seed in 0u64..1000, type_ix in 0usize..6, k in 8usize..40) {
        let kind = SelectionType::ALL[type_ix];
        let s = simulated(seed, k, 0.2, 0.05);
        if let Ok(f) = model(kind).fit(&s) {
            // an optimisation that fails says so (convergence is data; seen: a non-finite
            // likelihood after 8 iterations of a power model); its numbers are not checked
            if !f.converged() {
                return Ok(());
            }
            prop_assert!(f.tau2() >= 0.0);
            prop_assert!(f.lrt() >= 0.0);
            let (lo, hi) = f.ci();
            prop_assert!(lo <= f.estimate() && f.estimate() <= hi);
            for d in f.deltas() {
                prop_assert!(d.estimate >= 0.0 && d.estimate <= 100.0);
                if let (Some(l), Some(u)) = (d.ci_lower, d.ci_upper) {
                    prop_assert!(l <= d.estimate && d.estimate <= u);
                }
            }
            prop_assert!(f.loglik().is_finite());
        }
    }
}

#[test]
fn bad_steps_are_typed_errors_naming_the_option() {
    let s = simulated(3, 20, 0.3, 0.02);
    let step = |steps: Vec<f64>| {
        SelectionModel::new(SelectionType::StepFunction)
            .steps(steps)
            .fit(&s)
    };
    for bad in [
        vec![0.0],
        vec![-0.1],
        vec![1.5],
        vec![f64::NAN],
        vec![0.5, 0.025],
        vec![0.05, 0.05],
        vec![],
    ] {
        match step(bad.clone()) {
            Err(MetaError::InvalidOption { option, .. }) => assert_eq!(option, "steps", "{bad:?}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    match SelectionModel::new(SelectionType::StepFunction).fit(&s) {
        Err(MetaError::InvalidOption { option, .. }) => assert_eq!(option, "steps"),
        other => panic!("{other:?}"),
    }
    match SelectionModel::new(SelectionType::HalfNormal)
        .steps([0.025, 0.5])
        .fit(&s)
    {
        Err(MetaError::InvalidOption { option, .. }) => assert_eq!(option, "steps"),
        other => panic!("{other:?}"),
    }
    // a step interval without p-values whose delta is estimated, named (p-values here
    // are 0.44..0.52); the first interval, whose delta is fixed at 1, may be empty (as
    // in metafor)
    let tiny = Studies::from_variances(vec![0.01, 0.02, -0.01, 0.03, 0.0], vec![0.04; 5]).unwrap();
    match SelectionModel::new(SelectionType::StepFunction)
        .steps([0.1, 0.2])
        .fit(&tiny)
    {
        Err(MetaError::InvalidOption { option, reason, .. }) => {
            assert_eq!(option, "steps");
            assert!(reason.contains("0.1 < p <= 0.2"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        SelectionModel::new(SelectionType::StepFunction)
            .steps([0.001, 0.5])
            .fit(&tiny)
            .is_ok()
    );
    // continuous types refuse any empty interval
    match SelectionModel::new(SelectionType::HalfNormal)
        .steps([0.1])
        .fit(&tiny)
    {
        Err(MetaError::InvalidOption { option, reason, .. }) => {
            assert_eq!(option, "steps");
            assert!(reason.contains("0 < p <= 0.1"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn too_few_studies_and_bad_options_are_typed_errors() {
    let s = Studies::from_variances(vec![0.4, 0.1, 0.5], vec![0.04, 0.01, 0.05]).unwrap();
    // stepfun with two estimated deltas: p + 1 + 2 = 4 parameters > 3 studies
    match SelectionModel::new(SelectionType::StepFunction)
        .steps([0.05, 0.5])
        .fit(&s)
    {
        Err(MetaError::TooFewStudies { needed, found, .. }) => assert_eq!((needed, found), (4, 3)),
        Err(MetaError::InvalidOption { option, .. }) => assert_eq!(option, "steps"),
        other => panic!("{other:?}"),
    }
    match SelectionModel::new(SelectionType::Beta).fit(&s) {
        Err(MetaError::TooFewStudies { needed, found, .. }) => assert_eq!((needed, found), (4, 3)),
        other => panic!("{other:?}"),
    }
    let s = simulated(5, 20, 0.3, 0.02);
    match SelectionModel::new(SelectionType::Power)
        .method(Method::DL)
        .fit(&s)
    {
        Err(MetaError::InvalidOption { option, .. }) => assert_eq!(option, "method"),
        other => panic!("{other:?}"),
    }
    match SelectionModel::new(SelectionType::Beta)
        .delta(vec![Some(1.0), None, None])
        .fit(&s)
    {
        Err(MetaError::InvalidOption { option, .. }) => assert_eq!(option, "delta"),
        other => panic!("{other:?}"),
    }
    match SelectionModel::new(SelectionType::Beta)
        .delta(vec![Some(0.0), None])
        .fit(&s)
    {
        Err(MetaError::InvalidOption { option, .. }) => assert_eq!(option, "delta[1]"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn extreme_data_never_panic_or_give_nan() {
    // one huge outlier, tiny variances, all studies significant, none significant
    let sets = [
        (
            vec![5.0, 0.1, 0.2, 0.0, 0.15, 0.05],
            vec![0.01, 0.02, 0.03, 0.04, 0.02, 0.03],
        ),
        (
            vec![0.3, 0.31, 0.29, 0.3, 0.32, 0.28],
            vec![1e-6, 2e-6, 1e-6, 3e-6, 1e-6, 2e-6],
        ),
        (vec![1.0, 1.2, 0.9, 1.5, 1.1, 0.8], vec![0.01; 6]),
        (vec![0.01, -0.02, 0.0, 0.03, -0.01, 0.02], vec![0.5; 6]),
    ];
    for (y, v) in sets {
        let s = Studies::from_variances(y, v).unwrap();
        for kind in SelectionType::ALL {
            for alt in [
                Alternative::Greater,
                Alternative::Less,
                Alternative::TwoSided,
            ] {
                let r = model(kind).alternative(alt).fit(&s);
                if let Ok(f) = r {
                    assert!(
                        f.loglik().is_finite() && f.tau2().is_finite(),
                        "{kind} {alt}"
                    );
                    assert!(f.delta().iter().all(|d| d.is_finite()));
                    let _ = f.to_string();
                }
            }
        }
    }
}
