//! Gauss-Kronrod quadrature: the one home of the 21-point Kronrod / 10-point Gauss rule.
//!
//! Two drivers share the rule and its error bound:
//! * [`adaptive`]: globally adaptive integration of one function on a finite interval (the
//!   panel with the largest estimate is bisected until the summed estimate meets the
//!   tolerance: QUADPACK's QAG strategy, without extrapolation). Used by Imhof's integral
//!   for the generalized Q statistic ([`super::quadform`]) and by Henmi-Copas.
//! * [`Partition`]: a partition shared by many integrands (the selection models' `A_i`
//!   and their derivatives): a finite interval is cut at the caller's break points (the
//!   kinks of the integrands) and into pieces of a given width; a factor common to all
//!   integrands (the selection function at a p-value) is evaluated once per node; each
//!   integrand is summed piece by piece with [`kronrod_weight`] and checked with
//!   [`gauss_error`], and the caller bisects ([`Partition::bisect`]) the pieces whose
//!   estimates are too large, for all integrands at once.
//!
//! Each piece (panel) is integrated by the 21-point Kronrod rule and the 10-point Gauss
//! rule it extends (Kronrod 1965; the constants of QUADPACK's `qk21`, Piessens et al. 1983).
//!
//! # Error bound
//! On a piece of half-width `h`, with `K` and `G` the Kronrod and Gauss sums of one
//! integrand `f`, the stated error of the returned value `K` is
//!
//! `e = |K - G| + 50 eps h sum_j w_j |f(x_j)|`.
//!
//! `|K - G|` is (to first order) the error of the *Gauss* rule, exact for polynomials of
//! degree 19, while `K` is exact to degree 31: for an integrand analytic on the piece `e`
//! exceeds the actual error of `K` by orders of magnitude -- deliberately: QUADPACK scales
//! it down by the heuristic `(200 |K - G| / R)^1.5`, which can under-estimate; it is not
//! scaled here. The second term bounds the rounding of the sum. Like every estimate from
//! samples it is not a proof: a feature narrower than a piece can be missed, so the
//! callers cut at every kink they know and keep pieces narrower than the scale of the
//! integrand, and the tests compare with partitions 16 times finer and with closed forms.
//!
//! # References
//! * Kronrod, A. S. (1965). *Nodes and weights of quadrature formulas*. Consultants Bureau.
//! * Piessens, R., de Doncker-Kapenga, E., Ueberhuber, C. W., & Kahaner, D. K. (1983).
//!   *QUADPACK: A subroutine package for automatic integration*. Springer.

/// Number of nodes of the Kronrod rule.
pub(crate) const NODES: usize = 21;

/// Abscissae of the 21-point Kronrod rule on [-1, 1] (non-negative half, descending); the
/// odd positions (1, 3, ..., 9) are the nodes of the 10-point Gauss rule.
#[allow(clippy::excessive_precision)] // as published (Piessens et al. 1983)
const XGK: [f64; 11] = [
    0.995_657_163_025_808_080_735_527_280_689_003,
    0.973_906_528_517_171_720_077_964_012_084_452,
    0.930_157_491_355_708_226_001_207_180_059_508,
    0.865_063_366_688_984_510_732_096_688_423_493,
    0.780_817_726_586_416_897_063_717_578_345_042,
    0.679_409_568_299_024_406_234_327_365_114_874,
    0.562_757_134_668_604_683_339_000_099_272_694,
    0.433_395_394_129_247_190_799_265_943_165_784,
    0.294_392_862_701_460_198_131_126_603_103_866,
    0.148_874_338_981_631_210_884_826_001_129_720,
    0.0,
];

/// Weights of the 21-point Kronrod rule, matching [`XGK`].
#[allow(clippy::excessive_precision)] // as published (Piessens et al. 1983)
const WGK: [f64; 11] = [
    0.011_694_638_867_371_874_278_064_396_062_192,
    0.032_558_162_307_964_727_478_818_972_459_390,
    0.054_755_896_574_351_996_031_381_300_244_580,
    0.075_039_674_810_919_952_767_043_140_916_190,
    0.093_125_454_583_697_605_535_065_465_083_366,
    0.109_387_158_802_297_641_899_210_590_325_805,
    0.123_491_976_262_065_851_077_958_109_831_074,
    0.134_709_217_311_473_325_928_054_001_771_707,
    0.142_775_938_577_060_080_797_094_273_138_717,
    0.147_739_104_901_338_491_374_841_515_972_068,
    0.149_445_554_002_916_905_664_936_468_389_821,
];

/// Weights of the 10-point Gauss rule at `XGK[1], XGK[3], ..., XGK[9]`.
#[allow(clippy::excessive_precision)] // as published (Piessens et al. 1983)
const WG: [f64; 5] = [
    0.066_671_344_308_688_137_593_568_809_893_332,
    0.149_451_349_150_580_593_145_776_339_657_697,
    0.219_086_362_515_982_043_995_534_934_228_163,
    0.269_266_719_309_996_355_091_226_921_569_469,
    0.295_524_224_714_752_870_173_892_994_651_338,
];

/// One panel of [`adaptive`]: the Kronrod value and its error bound.
#[derive(Debug, Clone, Copy)]
struct Panel {
    a: f64,
    b: f64,
    value: f64,
    error: f64,
}

/// The 21-point Gauss-Kronrod rule on `[a, b]`: `(K21, |K21 - G10| + 50 eps int|f|)`.
fn gk21(f: &mut impl FnMut(f64) -> f64, a: f64, b: f64) -> Panel {
    let t = kronrod_nodes(a, b);
    let v: [f64; NODES] = std::array::from_fn(|j| f(t[j]));
    let (value, error, _) = gauss_error(&v, 0.5 * (b - a));
    Panel { a, b, value, error }
}

/// A partition of `[lo, hi]` into pieces with the 21 Kronrod nodes of each, shared by many
/// integrands: a factor common to all of them is evaluated once per node, and each
/// integrand is summed piece by piece with [`kronrod_weight`] and checked with
/// [`gauss_error`]; a piece whose error is too large for one of them is bisected
/// ([`Partition::bisect`]) for all.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Partition {
    pieces: Vec<(f64, f64)>,
    nodes: Vec<f64>,
}

impl Partition {
    /// Cuts `[breaks[0], breaks[last]]` at every break point and each of those intervals
    /// into equal pieces no wider than `max_width`.
    pub(crate) fn new(breaks: &[f64], max_width: f64) -> Self {
        let mut pieces = Vec::new();
        for w in breaks.windows(2) {
            let (a, b) = (w[0], w[1]);
            if !(b > a) {
                continue;
            }
            let n = ((b - a) / max_width).ceil().max(1.0) as usize;
            for j in 0..n {
                let lo = a + (b - a) * j as f64 / n as f64;
                let hi = if j + 1 == n {
                    b
                } else {
                    a + (b - a) * (j + 1) as f64 / n as f64
                };
                pieces.push((lo, hi));
            }
        }
        let mut p = Partition {
            pieces,
            nodes: Vec::new(),
        };
        p.rebuild();
        p
    }

    fn rebuild(&mut self) {
        self.nodes.clear();
        for &(a, b) in &self.pieces {
            self.nodes.extend(kronrod_nodes(a, b));
        }
    }

    /// The pieces `(a, b)` in increasing order.
    pub(crate) fn pieces(&self) -> &[(f64, f64)] {
        &self.pieces
    }

    /// The nodes of piece `j` are `nodes()[NODES j..NODES (j + 1)]`, in increasing order
    /// (`c - h x_0, ..., c - h x_9, c, c + h x_9, ..., c + h x_0` for the centre `c`, the
    /// half-width `h` and the positive Kronrod abscissae `x_0 > ... > x_9`).
    pub(crate) fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// Bisects the given pieces (indices into [`Partition::pieces`]); pieces that cannot
    /// be halved in floating point are kept. Returns whether anything changed.
    pub(crate) fn bisect(&mut self, which: &[usize]) -> bool {
        let mut out = Vec::with_capacity(self.pieces.len() + which.len());
        let mut changed = false;
        for (j, &(a, b)) in self.pieces.iter().enumerate() {
            let mid = 0.5 * (a + b);
            if which.contains(&j) && mid > a && mid < b {
                out.push((a, mid));
                out.push((mid, b));
                changed = true;
            } else {
                out.push((a, b));
            }
        }
        self.pieces = out;
        self.rebuild();
        changed
    }
}

/// The 21 Kronrod nodes on `[a, b]`, in increasing order: `c - h x_0, ..., c - h x_9, c,
/// c + h x_9, ..., c + h x_0`.
fn kronrod_nodes(a: f64, b: f64) -> [f64; NODES] {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let mut t = [c; NODES];
    for j in 0..10 {
        t[j] = c - h * XGK[j];
        t[20 - j] = c + h * XGK[j];
    }
    t
}

/// The Kronrod weight of node `j` of a piece (to be multiplied by the
/// half-width).
pub(crate) fn kronrod_weight(j: usize) -> f64 {
    WGK[if j <= 10 { j } else { 20 - j }]
}

/// The Kronrod sum of one integrand on a piece of half-width `h`, from its values at the
/// nodes of the piece ([`Partition::nodes`]), with its error bound (see the module
/// documentation): `(K, error, int |f|)`.
pub(crate) fn gauss_error(f: &[f64; NODES], h: f64) -> (f64, f64, f64) {
    let mut resk = WGK[10] * f[10];
    let mut resg = 0.0;
    let mut resabs = WGK[10] * f[10].abs();
    for j in 0..10 {
        let s = f[j] + f[20 - j];
        resk += WGK[j] * s;
        resabs += WGK[j] * (f[j].abs() + f[20 - j].abs());
        if j % 2 == 1 {
            resg += WG[j / 2] * s;
        }
    }
    let h = h.abs();
    let resabs = resabs * h;
    (
        resk * h,
        ((resk - resg) * h).abs() + 50.0 * f64::EPSILON * resabs,
        resabs,
    )
}

/// The result of [`adaptive`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Integral {
    /// The integral (sum of the Kronrod values of the panels).
    pub value: f64,
    /// The summed error estimate of the panels (see the module docs).
    pub error: f64,
    /// Integrand evaluations.
    pub evaluations: usize,
    /// Whether the error estimate met the tolerance within the panel budget.
    pub converged: bool,
}

/// `int_a^b f` to `error <= max(abs_tol, rel_tol |value|)`, bisecting the worst panel at
/// most `max_panels` times. A non-finite integrand value makes the result non-finite
/// (and not converged).
pub(crate) fn adaptive(
    mut f: impl FnMut(f64) -> f64,
    a: f64,
    b: f64,
    abs_tol: f64,
    rel_tol: f64,
    max_panels: usize,
) -> Integral {
    let mut panels = vec![gk21(&mut f, a, b)];
    let mut evaluations = 21;
    loop {
        let value: f64 = panels.iter().map(|p| p.value).sum();
        let error: f64 = panels.iter().map(|p| p.error).sum();
        if !(value.is_finite() && error.is_finite()) {
            return Integral {
                value: f64::NAN,
                error: f64::INFINITY,
                evaluations,
                converged: false,
            };
        }
        if error <= abs_tol.max(rel_tol * value.abs()) {
            return Integral {
                value,
                error,
                evaluations,
                converged: true,
            };
        }
        if panels.len() >= max_panels {
            return Integral {
                value,
                error,
                evaluations,
                converged: false,
            };
        }
        // bisect the panel with the largest error estimate
        let (worst, _) =
            panels
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |(bi, be), (i, p)| {
                    if p.error > be { (i, p.error) } else { (bi, be) }
                });
        let p = panels.swap_remove(worst);
        let m = 0.5 * (p.a + p.b);
        if !(m > p.a.min(p.b) && m < p.a.max(p.b)) {
            // the panel cannot be split further in floating point
            panels.push(p);
            let value: f64 = panels.iter().map(|p| p.value).sum();
            let error: f64 = panels.iter().map(|p| p.error).sum();
            return Integral {
                value,
                error,
                evaluations,
                converged: false,
            };
        }
        panels.push(gk21(&mut f, p.a, m));
        panels.push(gk21(&mut f, m, p.b));
        evaluations += 42;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_exact_for_polynomials_of_their_degree() {
        // K21 integrates x^31, G10 x^19 exactly on [-1, 1]; the stored nodes and weights
        // are checked through these moments
        for d in 0..=31u32 {
            let want = if d % 2 == 1 {
                0.0
            } else {
                2.0 / f64::from(d + 1)
            };
            let mut f = |x: f64| x.powi(d as i32);
            let p = gk21(&mut f, -1.0, 1.0);
            assert!((p.value - want).abs() < 4e-16, "K21 x^{d}: {}", p.value);
            if d <= 19 {
                // K21 == G10 for these, so the estimate is the rounding term only
                assert!(
                    p.error < 120.0 * f64::EPSILON,
                    "G10 x^{d}: error {}",
                    p.error
                );
            }
        }
        assert!(gk21(&mut |x: f64| x.powi(20), -1.0, 1.0).error > 1e-8);
        let sw: f64 = WGK[10] + 2.0 * WGK[..10].iter().sum::<f64>();
        assert!((sw - 2.0).abs() < 1e-15);
    }

    #[test]
    fn adaptive_handles_peaks_and_meets_tolerance() {
        // int_0^1 1/(1e-4 + (x - 0.3)^2) = 100 (atan(70) + atan(30))
        let f = |x: f64| 1.0 / (1e-4 + (x - 0.3) * (x - 0.3));
        let want = 100.0 * (70f64.atan() + 30f64.atan());
        let r = adaptive(f, 0.0, 1.0, 0.0, 1e-13, 1000);
        assert!(r.converged);
        assert!(
            (r.value - want).abs() <= 1e-13 * want,
            "{} vs {want}",
            r.value
        );
        assert!(r.error <= 1e-13 * want);
        // a non-finite integrand is reported, not hidden
        let r = adaptive(|x: f64| 1.0 / x, 0.0, 1.0, 0.0, 1e-10, 50);
        assert!(!r.converged);
    }

    /// Adaptive integration of one function on a partition: bisect the worst piece until
    /// the summed estimate is below `rel int |f|` (the scheme of the selection models, for
    /// one integrand). Returns `(value, error estimate, evaluations, converged)`.
    fn on_partition(
        f: impl Fn(f64) -> f64,
        breaks: &[f64],
        rel: f64,
        max: usize,
    ) -> (f64, f64, usize, bool) {
        let mut part = Partition::new(breaks, f64::INFINITY);
        let mut evals = 0;
        loop {
            let mut tot = (0.0, 0.0, 0.0);
            let mut worst = (0.0, 0);
            for (j, &(a, b)) in part.pieces().iter().enumerate() {
                let v: [f64; NODES] = std::array::from_fn(|n| f(part.nodes()[NODES * j + n]));
                evals += NODES;
                let (k, e, r) = gauss_error(&v, 0.5 * (b - a));
                tot = (tot.0 + k, tot.1 + e, tot.2 + r);
                if e > worst.0 {
                    worst = (e, j);
                }
            }
            let ok = tot.1 <= rel * tot.2;
            if ok || part.pieces().len() >= max || !part.bisect(&[worst.1]) {
                return (tot.0, tot.1, evals, ok);
            }
        }
    }

    #[test]
    fn polynomials_up_to_degree_31_are_exact_on_one_piece() {
        // the 21-point Kronrod rule integrates polynomials of degree 3 * 10 + 1 = 31 exactly
        let part = Partition::new(&[-1.0, 1.0], 2.0);
        let nodes = part.nodes();
        let k: f64 = (0..NODES)
            .map(|j| kronrod_weight(j) * nodes[j].powi(30))
            .sum();
        assert!((k - 2.0 / 31.0).abs() < 1e-15);
        let v: [f64; NODES] =
            std::array::from_fn(|j| nodes[j].powi(31) + 3.0 * nodes[j] * nodes[j]);
        let (k, _, r) = gauss_error(&v, 1.0);
        assert!((k - 2.0).abs() < 1e-15);
        assert!(r > 0.0);
    }

    #[test]
    fn nodes_are_increasing_and_symmetric() {
        let t = kronrod_nodes(2.0, 4.0);
        assert!(t.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(t[10], 3.0);
        for j in 0..10 {
            assert!(((t[j] - 3.0) + (t[20 - j] - 3.0)).abs() < 1e-15);
        }
        let w: f64 = (0..NODES).map(kronrod_weight).sum();
        assert!((w - 2.0).abs() < 1e-15);
    }

    #[test]
    fn gaussian_integral_matches_erf_within_the_estimate() {
        // int_{-3}^{2} exp(-x^2/2) dx = sqrt(2 pi) (Phi(2) - Phi(-3))
        let (v, e, _, ok) = on_partition(|x| (-0.5 * x * x).exp(), &[-3.0, 2.0], 1e-12, 200);
        let exact = (2.0 * std::f64::consts::PI).sqrt()
            * 0.5
            * (libm::erf(2.0 / std::f64::consts::SQRT_2)
                + libm::erf(3.0 / std::f64::consts::SQRT_2));
        assert!(ok);
        assert!(
            (v - exact).abs() <= e.max(4.0 * f64::EPSILON * exact),
            "{v} vs {exact}"
        );
        assert!((v - exact).abs() <= 1e-14 * exact);
    }

    #[test]
    fn a_kink_between_break_points_is_resolved_by_bisection() {
        // |x - 0.3| on [-1, 1] = (1.3^2 + 0.7^2)/2 = 1.09, kink not at a break point
        let (v, _, _, ok) = on_partition(|x| (x - 0.3).abs(), &[-1.0, 1.0], 1e-12, 200);
        assert!(ok);
        assert!((v - 1.09).abs() < 1e-12);
        // with the kink as a break point, one piece each side is exact
        let (v, _, evals, ok) = on_partition(|x| (x - 0.3).abs(), &[-1.0, 0.3, 1.0], 1e-12, 200);
        assert!(ok);
        assert_eq!(evals, 2 * NODES);
        assert!((v - 1.09).abs() < 1e-15);
    }

    #[test]
    fn the_piece_limit_is_reported_as_not_converged() {
        let (_, e, _, ok) =
            on_partition(|x| 1.0 / x.abs().max(1e-300).sqrt(), &[-1.0, 1.0], 1e-15, 3);
        assert!(!ok);
        assert!(e > 0.0);
    }

    #[test]
    fn partition_splits_wide_intervals_and_bisects() {
        // [-2, 0.5] is 2.5 wide: three pieces of 5/6; [0.5, 1] one piece
        let mut p = Partition::new(&[-2.0, 0.5, 1.0], 1.0);
        assert_eq!(p.pieces().len(), 4);
        assert_eq!(p.pieces()[0].0, -2.0);
        assert_eq!(p.pieces()[2].1, 0.5);
        assert!((p.pieces()[0].1 + 2.0 - 2.5 / 3.0).abs() < 1e-15);
        assert!(p.bisect(&[3]));
        assert_eq!(p.pieces()[3..], [(0.5, 0.75), (0.75, 1.0)]);
        assert_eq!(p.nodes().len(), NODES * 5);
    }
}
