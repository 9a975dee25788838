//! Gauss-Kronrod quadrature on a partition shared by many integrands.
//!
//! A finite interval is cut at the caller's break points (the kinks of the integrands)
//! and into pieces of a given width ([`Partition`]); each piece is integrated with the
//! 21-point Kronrod rule and the 10-point Gauss rule it extends (Kronrod 1965; the nodes
//! and weights of QUADPACK's `qk21`, Piessens, de Doncker-Kapenga, Überhuber & Kahaner
//! 1983), whose difference estimates the error ([`gauss_error`]). The caller sums the
//! pieces of each integrand and bisects the pieces whose estimates are too large, as
//! QUADPACK's `qag` bisects its worst interval; because all integrands share the partition
//! and its nodes, a factor common to all of them (the selection function at a p-value) is
//! evaluated once per node for all of them.
//!
//! # Error bound
//! On a piece of half-width `h`, with `K` and `G` the Kronrod and Gauss sums of one
//! integrand `f`, the stated error of the returned value `K` is
//!
//! `e = |K - G| + 50 eps h sum_j w_j |f(x_j)|`.
//!
//! `|K - G|` is (to first order) the error of the Gauss rule, exact for polynomials of
//! degree 19, while `K` is exact to degree 31: for an integrand analytic on the piece `e`
//! exceeds the actual error of `K` by orders of magnitude (QUADPACK scales it down by the
//! heuristic `(200 |K - G| / R)^1.5`; it is deliberately not scaled here, so the estimate
//! does not under-state). The second term bounds the rounding of the sum. Like every
//! estimate from samples it is not a proof: a feature narrower than a piece can be missed,
//! so the callers cut the partition at every kink they know, keep the pieces narrower than
//! the scale of the integrand, and the tests compare with partitions 16 times finer and
//! with closed forms.
//!
//! # References
//! * Kronrod, A. S. (1965). *Nodes and weights of quadrature formulas*. Consultants Bureau.
//! * Piessens, R., de Doncker-Kapenga, E., Überhuber, C. W., & Kahaner, D. K. (1983).
//!   *QUADPACK: A subroutine package for automatic integration*. Springer.

/// Number of nodes of the Kronrod rule.
pub(crate) const NODES: usize = 21;

/// Abscissae of the 21-point Kronrod rule on `[-1, 1]` (non-negative half; the odd
/// positions 1, 3, 5, 7, 9 are the 10-point Gauss nodes; the last is the centre).
const XGK: [f64; 11] = [
    0.9956571630258081,
    0.9739065285171717,
    0.9301574913557082,
    0.8650633666889845,
    0.7808177265864169,
    0.6794095682990244,
    0.5627571346686047,
    0.4333953941292472,
    0.2943928627014602,
    0.14887433898163122,
    0.0,
];
/// Weights of the 21-point Kronrod rule.
const WGK: [f64; 11] = [
    0.011694638867371874,
    0.032558162307964725,
    0.054755896574351995,
    0.07503967481091996,
    0.0931254545836976,
    0.10938715880229764,
    0.12349197626206584,
    0.13470921731147334,
    0.14277593857706009,
    0.14773910490133849,
    0.1494455540029169,
];
/// Weights of the 10-point Gauss rule (at `XGK[1]`, `XGK[3]`, ..., `XGK[9]`).
const WG: [f64; 5] = [
    0.06667134430868814,
    0.1494513491505806,
    0.21908636251598204,
    0.26926671930999635,
    0.29552422471475287,
];

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Adaptive integration of one function on a partition: bisect the worst piece until
    /// the summed estimate is below `rel int |f|` (the scheme of the selection models, for
    /// one integrand). Returns `(value, error estimate, evaluations, converged)`.
    fn adaptive(
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
        let (v, e, _, ok) = adaptive(|x| (-0.5 * x * x).exp(), &[-3.0, 2.0], 1e-12, 200);
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
        let (v, _, _, ok) = adaptive(|x| (x - 0.3).abs(), &[-1.0, 1.0], 1e-12, 200);
        assert!(ok);
        assert!((v - 1.09).abs() < 1e-12);
        // with the kink as a break point, one piece each side is exact
        let (v, _, evals, ok) = adaptive(|x| (x - 0.3).abs(), &[-1.0, 0.3, 1.0], 1e-12, 200);
        assert!(ok);
        assert_eq!(evals, 2 * NODES);
        assert!((v - 1.09).abs() < 1e-15);
    }

    #[test]
    fn the_piece_limit_is_reported_as_not_converged() {
        let (_, e, _, ok) = adaptive(|x| 1.0 / x.abs().max(1e-300).sqrt(), &[-1.0, 1.0], 1e-15, 3);
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
