//! The distribution of a positive semi-definite quadratic form in normal variables,
//! `Q = z' A z`, `z ~ N(0, I)`, i.e. `Q = sum_j lambda_j X_j` with `X_j` independent chi^2_1
//! and `lambda_j >= 0` the eigenvalues of `A`, for any ratio of the largest to the smallest
//! eigenvalue (Imhof's inversion integral, taken through the saddlepoint, with a bounded
//! truncation error).
//!
//! `A` is given either by its eigenvalues or as a diagonal matrix minus a rank-one matrix,
//! `A = D - rho u u'` (the generalized Q statistic has this form); then
//! `det(I - 2 s A) = prod_i (1 - 2 s d_i) h(s)`, `h(s) = 1 + 2 rho s sum_i u_i^2/(1 - 2 s d_i)`
//! (the matrix determinant lemma), so every evaluation costs O(n) and no eigenvalue is
//! ever computed.
//!
//! # Formula
//! With the moment generating function `M(s) = det(I - 2 s A)^(-1/2)
//! = prod_j (1 - 2 lambda_j s)^(-1/2)`, the inversion integral along the vertical line
//! `Re s = c` gives (Gil-Pelaez 1951; Imhof 1961, who takes `c -> 0`)
//!
//! * `P(Q > q)  =  (1/pi) int_0^inf Re[g(c + i t)] dt` for `0 < c < 1/(2 lambda_max)`,
//! * `P(Q <= q) = -(1/pi) int_0^inf Re[g(c + i t)] dt` for `c < 0`,
//!
//! with `g(s) = M(s) exp(-s q)/s`. `c` is the saddlepoint of `g` on the real axis on the
//! side of the smaller tail (`c > 0` when `q >= E[Q] = tr A`, else `c < 0`): there the
//! integrand is a positive bump of width `phi''(c)^(-1/2)`, `phi = ln g`, followed by
//! decaying oscillations, so the smaller tail is obtained *relatively* accurately (no
//! `1/2 - ...` cancellation as in Imhof's `c = 0` form), far into the tail; the other tail
//! is `1 -` it. For `A = D - rho u u'` the largest `d_0` is kept inside the rank-one factor
//! (see [`QuadForm`]) so that every other `1 - 2 c d_i` stays positive.
//!
//! # Error bound
//! `int_0^T` is computed by adaptive Gauss-Kronrod quadrature (see `integrate`; its error
//! estimate is that of the embedded Gauss rule). The tail `int_T^inf` is integrated by
//! parts `N` times with `A(t) = g(c + i t) e^(i q t)`:
//! `int_T^inf A e^(-iqt) dt = e^(-iqT) sum_(n<N) A^(n)(T)/(iq)^(n+1) + r_N`, and the
//! remainder is bounded rigorously: `A^(n) = A Y_n(L, L', ...)` (complete Bell polynomials
//! in the derivatives of `L = (ln A)'`), `|L^(k)(t)| <= l_k(T) = sum_j lambda_j k!
//! (2 lambda_j)^k / |1 - 2 lambda_j s_T|^(k+1) + k!/|s_T|^(k+1)` for `t >= T` (both moduli
//! grow with `t`), and `ln|A|` is concave in `ln t`, so `|A(t)| <= |A(T)| (t/T)^(-nu)` with
//! `nu = -d ln|A|/d ln t` at `T`; hence `|r_N| <= q^(-N) Y_N(l_0(T), ...) |A(T)| T/(nu - 1)`.
//! For `A = D - rho u u'` the eigenvalues interlace the sorted `d` (`d_(j+1) <= lambda_j <=
//! d_(j)`) and each term of `l_k` grows with `lambda` below `1/(2c)`, each term of `nu`
//! too: `l_k` is bounded with `lambda_1 -> lambda_max`, `lambda_j -> d_(j)` (j >= 2), and
//! `nu` from below with `lambda_j -> d_(j+1)`. `T` is
//! doubled (and `N <= 12` chosen to minimise the bound) until the quadrature error estimate
//! plus the tail bound is below the requested relative tolerance. The sum of the two is
//! reported with the result.
//!
//! # References
//! * Imhof, J. P. (1961). Computing the distribution of quadratic forms in normal
//!   variables. *Biometrika*, 48, 419-426.
//! * Gil-Pelaez, J. (1951). Note on the inversion theorem. *Biometrika*, 38, 481-482.
//! * Davies, R. B. (1980). Algorithm AS 155: The distribution of a linear combination of
//!   chi-squared random variables. *Applied Statistics*, 29, 323-333 (bounded errors for
//!   the same inversion integral; here the bound is the integration by parts above).
//! * Daniels, H. E. (1954). Saddlepoint approximations in statistics. *Annals of
//!   Mathematical Statistics*, 25, 631-650 (the choice of `c`).
//! * Golub, G. H. (1973). Some modified matrix eigenvalue problems. *SIAM Review*, 15,
//!   318-334 (interlacing for a rank-one modification).

use nalgebra::Complex;

use super::dist::{chisq_cdf, chisq_sf};
use super::integrate::adaptive;
use super::root::brent;

/// Both tails of `Q` at `q`, with the error bound of the computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct QuadFormTails {
    /// `P(Q > q)`.
    pub upper: f64,
    /// `P(Q <= q)`.
    pub lower: f64,
    /// Bound on the absolute error of either tail (quadrature estimate + truncation bound).
    pub error: f64,
    /// Whether `error <= rel_tol * min(upper, lower)` was reached.
    pub converged: bool,
}

/// The largest number of integrations by parts in the tail expansion.
const MAX_IBP: usize = 12;
/// The largest number of doublings of the truncation point.
const MAX_DOUBLINGS: usize = 80;
/// The largest number of Gauss-Kronrod panels per integral.
const MAX_PANELS: usize = 5000;

/// `Q = z'Az` with `A = D - rho u u'` (`rho = 0`: `A = D`, the `d` being its eigenvalues).
///
/// With `rho > 0` the largest diagonal element `d_0` is kept inside the rank-one factor.
/// Writing `u_i^2 = w_i d_i` and `delta = 1 - rho sum w_i >= 0` (0 exactly when `A` is
/// singular, as for the generalized Q statistic; given by the caller, so that it is not a
/// difference of rounded numbers):
/// `det(I - 2sA) = prod_(i>=1) (1 - 2 s d_i) H(s)`, `H(s) = (1 - 2 s d_0) K(s) + rho w_0`,
/// `K(s) = delta + rho sum_(i>=1) w_i/(1 - 2 s d_i)` -- the form of `(1 - 2 s d_0)
/// (1 + 2 rho s sum_(i>=1) u_i^2/(1 - 2 s d_i)) + 2 rho s u_0^2` in which the terms of order
/// `s` cancel analytically instead of numerically. `H` has no pole before the first singularity
/// `s* = 1/(2 lambda_max)` of `M`, so `c` can approach `s*` even when `s* > 1/(2 d_0)` (a
/// study dominating the weights), and `arg H(c + it)` stays in `(-pi, 0]` (interlacing), so
/// its principal logarithm is continuous.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuadForm {
    /// Positive diagonal, sorted descending.
    d: Vec<f64>,
    /// `w_i = u_i^2/d_i`, in the order of `d`.
    w: Vec<f64>,
    /// The rank-one coefficient (>= 0).
    rho: f64,
    /// `1 - rho sum w_i`.
    delta: f64,
    /// The largest eigenvalue of `A`.
    lmax: f64,
}

impl QuadForm {
    /// `Q = sum_j lambda_j chi^2_1`; non-positive `lambda` are dropped (a zero eigenvalue
    /// contributes nothing). (The GENQ interval uses the rank-one form; this one serves the
    /// checks against closed forms and the R reference.)
    #[cfg(test)]
    pub(crate) fn from_eigenvalues(lambda: &[f64]) -> Self {
        let mut d: Vec<f64> = lambda
            .iter()
            .copied()
            .filter(|l| *l > 0.0 && l.is_finite())
            .collect();
        d.sort_by(|a, b| b.total_cmp(a));
        let w = vec![0.0; d.len()];
        let lmax = d.first().copied().unwrap_or(0.0);
        QuadForm {
            d,
            w,
            rho: 0.0,
            delta: 1.0,
            lmax,
        }
    }

    /// `A = diag(d) - rho u u'` with `u_i^2 = w_i d_i`, positive semi-definite:
    /// `delta = 1 - rho sum w_i >= 0` (the caller gives `delta`, exactly 0 for a singular
    /// `A`); entries with `d_i <= 0` are dropped (they must have `u_i = 0`).
    pub(crate) fn diag_minus_rank_one(d: &[f64], w: &[f64], rho: f64, delta: f64) -> Self {
        let mut pairs: Vec<(f64, f64)> = d
            .iter()
            .zip(w)
            .filter(|(di, _)| **di > 0.0 && di.is_finite())
            .map(|(a, b)| (*a, *b))
            .collect();
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut f = QuadForm {
            d: pairs.iter().map(|p| p.0).collect(),
            w: pairs.iter().map(|p| p.1).collect(),
            rho: rho.max(0.0),
            delta: delta.max(0.0),
            lmax: 0.0,
        };
        if f.rho == 0.0 {
            f.lmax = f.d.first().copied().unwrap_or(0.0);
            return f;
        }
        f.lmax = match f.d.len() {
            0 => 0.0,
            1 => f.d[0] * (1.0 - f.rho * f.w[0]).max(0.0),
            _ => {
                // s* = 1/(2 lambda_max): the first zero of H, before the pole 1/(2 d_1)
                let s_hi = 0.5 / f.d[1] * (1.0 - 1e-15);
                let h = |s: f64| f.h_real(s);
                if h(s_hi) > 0.0 {
                    f.d[1] // (a tie d_1 = d_0: d_0 is an eigenvalue)
                } else {
                    brent(h, 0.0, s_hi, 1e-15, 0.0, 500).map_or(f.d[1], |r| 0.5 / r.x)
                }
            }
        };
        f
    }

    /// `H(s)` at real `s` (rank-one case).
    fn h_real(&self, s: f64) -> f64 {
        let k: f64 = self.d[1..]
            .iter()
            .zip(&self.w[1..])
            .map(|(d, w)| w / (1.0 - 2.0 * s * d))
            .sum();
        (1.0 - 2.0 * s * self.d[0]) * (self.delta + self.rho * k) + self.rho * self.w[0]
    }

    /// The index of the first diagonal element outside the rank-one factor.
    fn first_diag(&self) -> usize {
        usize::from(self.rho > 0.0)
    }

    /// `E[Q] = tr A`.
    fn mean(&self) -> f64 {
        self.d
            .iter()
            .zip(&self.w)
            .map(|(d, w)| d * (1.0 - self.rho * w))
            .sum()
    }

    /// `ln H(s)` and its derivatives `(ln H)^(j)(s)`, `j = 1..=order` (rank-one case).
    fn ln_h_derivs(&self, s: Complex<f64>, order: usize) -> Vec<Complex<f64>> {
        let z = Complex::new(0.0, 0.0);
        // K^(j), j = 0..=order: K = delta + rho sum w/(1 - 2sd),
        // K^(j) = rho sum w j! (2d)^j / (1 - 2sd)^(j+1)
        let mut k = vec![z; order + 1];
        for (d, w) in self.d[1..].iter().zip(&self.w[1..]) {
            let inv = 1.0 / (1.0 - 2.0 * s * d);
            let mut p = *w * inv;
            for (j, kj) in k.iter_mut().enumerate() {
                if j > 0 {
                    p *= 2.0 * d * inv * j as f64;
                }
                *kj += p;
            }
        }
        for kj in &mut k {
            *kj *= self.rho;
        }
        k[0] += self.delta;
        // H = (1 - 2 s d_0) K + rho w_0
        let d0 = self.d[0];
        let mut h = vec![z; order + 1];
        h[0] = (1.0 - 2.0 * s * d0) * k[0] + self.rho * self.w[0];
        for j in 1..=order {
            h[j] = (1.0 - 2.0 * s * d0) * k[j] - 2.0 * d0 * j as f64 * k[j - 1];
        }
        // (ln H)^(n) from H^(n) = sum_(j<n) C(n-1, j) H^(j) (ln H)^(n-j)
        let mut lh = vec![z; order + 1];
        lh[0] = h[0].ln();
        for n in 1..=order {
            let mut acc = h[n];
            let mut binom = 1.0; // C(n-1, j)
            for j in 1..n {
                binom *= (n - j) as f64 / j as f64;
                acc -= binom * h[j] * lh[n - j];
            }
            lh[n] = acc / h[0];
        }
        lh
    }

    /// `(d/ds ln M, d^2/ds^2 ln M)` at real `s < 1/(2 lambda_max)`.
    fn dlnm_real(&self, s: f64) -> (f64, f64) {
        let (mut g1, mut g2) = (0.0, 0.0);
        for d in &self.d[self.first_diag()..] {
            let r = d / (1.0 - 2.0 * s * d);
            g1 += r;
            g2 += 2.0 * r * r;
        }
        if self.rho > 0.0 {
            let lh = self.ln_h_derivs(Complex::new(s, 0.0), 2);
            g1 -= 0.5 * lh[1].re;
            g2 -= 0.5 * lh[2].re;
        }
        (g1, g2)
    }

    /// `ln M(c + it) - ln M(c)` as `(real part, imaginary part)`; `a_i = 1 - 2 c d_i`,
    /// `lh0 = ln H(c)`.
    fn lnm_rel(&self, c: f64, t: f64, a: &[f64], lh0: f64) -> (f64, f64) {
        let (mut re, mut im) = (0.0, 0.0);
        let k0 = self.first_diag();
        for (d, aj) in self.d[k0..].iter().zip(&a[k0..]) {
            let z = 2.0 * d * t / aj;
            re -= 0.25 * (z * z).ln_1p();
            im += 0.5 * z.atan();
        }
        if self.rho > 0.0 {
            let s = Complex::new(c, t);
            let mut k = Complex::new(0.0, 0.0);
            for ((d, aj), w) in self.d[1..].iter().zip(&a[1..]).zip(&self.w[1..]) {
                // w / (a - 2 i d t)
                let b = 2.0 * d * t;
                let den = aj * aj + b * b;
                k += Complex::new(w * aj / den, w * b / den);
            }
            let h =
                (1.0 - 2.0 * s * self.d[0]) * (self.delta + self.rho * k) + self.rho * self.w[0];
            let lh = h.ln();
            re -= 0.5 * (lh.re - lh0);
            im -= 0.5 * lh.im;
        }
        (re, im)
    }

    /// Both tails at `q`, to `rel_tol` relative to the smaller one.
    pub(crate) fn tails(&self, q: f64, rel_tol: f64) -> QuadFormTails {
        let exact = |upper: f64, lower: f64| QuadFormTails {
            upper,
            lower,
            error: 0.0,
            converged: true,
        };
        if self.d.is_empty() || !(self.lmax > 0.0) {
            return if q < 0.0 {
                exact(1.0, 0.0)
            } else {
                exact(0.0, 1.0)
            };
        }
        if !(q > 0.0) {
            return exact(1.0, 0.0);
        }
        let n = self.d.len() as f64;
        let (dmax, dmin) = (self.d[0], self.d[self.d.len() - 1]);
        if self.rho == 0.0 && dmax - dmin <= 4.0 * f64::EPSILON * dmax {
            // equal eigenvalues: a scaled chi-square
            let l = self.d.iter().sum::<f64>() / n;
            return exact(chisq_sf(q / l, n), chisq_cdf(q / l, n));
        }
        self.imhof(q, rel_tol)
    }

    /// Imhof's integral through the saddlepoint (see the module docs).
    pub(crate) fn imhof(&self, q: f64, rel_tol: f64) -> QuadFormTails {
        let n = self.d.len() as f64;
        let upper_side = q >= self.mean();
        let dphi = |s: f64| self.dlnm_real(s).0 - q - 1.0 / s;
        let c = if upper_side {
            // bracket: the first of 1 - 10^-j (j = 1, 2, ...) where phi' > 0 (next to the
            // singularity, rounding in H can flip the sign of phi')
            let h = 0.5 / self.lmax;
            (1..=15)
                .map(|j| 1.0 - 10f64.powi(-j))
                .find(|x| dphi(h * x) > 0.0)
                .and_then(|hi| brent(|x| dphi(h * x), 1e-12, hi, 1e-12, 0.0, 500))
                .map(|r| h * r.x)
        } else {
            let l = -(n + 2.0) / q;
            brent(|x| dphi(l * x), 1.0, 1e-14, 1e-12, 0.0, 500).map(|r| l * r.x)
        };
        let fail = QuadFormTails {
            upper: f64::NAN,
            lower: f64::NAN,
            error: f64::INFINITY,
            converged: false,
        };
        let Some(c) = c.filter(|c| c.is_finite() && *c != 0.0) else {
            return fail;
        };
        let k0 = self.first_diag();
        let a: Vec<f64> = self.d.iter().map(|d| 1.0 - 2.0 * d * c).collect();
        let lh0 = if self.rho > 0.0 {
            let h0 = self.h_real(c);
            if !(h0 > 0.0) {
                return fail;
            }
            h0.ln()
        } else {
            0.0
        };
        if !a[k0..].iter().all(|x| *x > 0.0) {
            return fail;
        }
        // ln of the integrand's scale at t = 0: ln M(c) - c q - ln|c|
        let r0 = -0.5 * (a[k0..].iter().map(|x| x.ln()).sum::<f64>() + lh0) - c * q - c.abs().ln();
        let sign = if upper_side { 1.0 } else { -1.0 };
        // the integrand divided by exp(r0)
        let f = |t: f64| {
            let (re, im) = self.lnm_rel(c, t, &a, lh0);
            let r = re - 0.5 * (t / c).powi(2).ln_1p();
            let th = im - q * t - t.atan2(c);
            r.exp() * th.cos()
        };
        let phi2 = self.dlnm_real(c).1 + 1.0 / (c * c);
        let tail = |t: f64| self.tail_expansion(&a, lh0, c, q, t);
        // the truncation point: the remainder bound below a tenth of the tolerance,
        // relative to the Gaussian approximation of the integral, sigma sqrt(pi/2)
        let sigma = 1.0 / phi2.sqrt();
        let i_est = sigma * (0.5 * std::f64::consts::PI).sqrt();
        let mut t_hi = 8.0 * sigma;
        let mut doublings = 0;
        while tail(t_hi).1 > 0.1 * rel_tol * i_est && doublings < MAX_DOUBLINGS {
            t_hi *= 2.0;
            doublings += 1;
        }
        let main = adaptive(
            f,
            0.0,
            t_hi,
            0.5 * rel_tol * i_est,
            0.5 * rel_tol,
            MAX_PANELS,
        );
        let mut value = main.value;
        let mut quad_err = main.error;
        let mut refined = false;
        loop {
            let (tail_value, bound) = tail(t_hi);
            let total = value + tail_value;
            let err = quad_err + bound;
            if !(total.is_finite() && !err.is_nan()) {
                return fail;
            }
            let scale = r0.exp() / std::f64::consts::PI;
            // (an error below the smallest positive double is no error: the tail underflows)
            let target = (rel_tol * total.abs()).max(f64::MIN_POSITIVE / scale);
            let give_up = doublings >= MAX_DOUBLINGS || (bound <= 0.1 * target && refined);
            if err <= target || give_up {
                let p = (sign * total * scale).clamp(0.0, 1.0);
                let (upper, lower) = if upper_side {
                    (p, 1.0 - p)
                } else {
                    (1.0 - p, p)
                };
                return QuadFormTails {
                    upper,
                    lower,
                    error: err * scale,
                    converged: err <= target,
                };
            }
            if bound > 0.1 * target {
                // the Gaussian guess of the integral was too large: truncate later
                let next = adaptive(f, t_hi, 2.0 * t_hi, 0.25 * target, 0.0, MAX_PANELS);
                value += next.value;
                quad_err += next.error;
                t_hi *= 2.0;
                doublings += 1;
            } else {
                // ... or the quadrature needs a tighter absolute tolerance
                let again = adaptive(f, 0.0, t_hi, 0.5 * target, 0.0, 4 * MAX_PANELS);
                value = again.value;
                quad_err = again.error;
                refined = true;
            }
        }
    }

    /// `int_T^inf Re g(c + it) dt / exp(r0)` by `N` integrations by parts (the `N` with the
    /// smallest remainder bound): `(value, bound on the remainder)`.
    fn tail_expansion(&self, a: &[f64], lh0: f64, c: f64, q: f64, t: f64) -> (f64, f64) {
        let i = Complex::new(0.0, 1.0);
        let s = Complex::new(c, t);
        let k0 = self.first_diag();
        // B = A / exp(r0): modulus and argument at T
        let (re, im) = self.lnm_rel(c, t, a, lh0);
        let lnb = re - 0.5 * (t / c).powi(2).ln_1p();
        let arg = im - t.atan2(c);
        // nu = -d ln|A| / d ln t at T, from below: lambda_j >= d_(j+1) (see the module docs)
        let mut nu = t * t / (c * c + t * t);
        for (d, aj) in self.d[k0..].iter().zip(&a[k0..]) {
            let z = 2.0 * d * t / aj;
            nu += 0.5 * z * z / (1.0 + z * z);
        }
        // derivatives in t of L = (ln A)' at T: L^(k) = i^(k+1) [(ln M)^(k+1)(s) - (ln s)^(k+1)]
        let mut dl = [Complex::new(0.0, 0.0); MAX_IBP];
        let mut lb = [0.0f64; MAX_IBP];
        let inv_s = 1.0 / s;
        let abs_s = s.norm();
        let mut fact = 1.0; // k!
        let mut mi_pow = Complex::new(1.0, 0.0); // (-i)^k
        for k in 0..MAX_IBP {
            if k > 0 {
                fact *= k as f64;
                mi_pow *= -i;
            }
            dl[k] = -i * mi_pow * fact * inv_s.powu(k as u32 + 1);
            lb[k] = fact / abs_s.powi(k as i32 + 1);
        }
        // diagonal factors: i d k! (2 i d)^k / (1 - 2 d s)^(k+1); the bounds take
        // lambda_j -> d_(j), and lambda_max for the factor inside H
        let bound_terms = |x: f64, lb: &mut [f64; MAX_IBP]| {
            let abs_d = (s * (-2.0 * x) + 1.0).norm();
            let mut bterm = x / abs_d;
            for (k, l) in lb.iter_mut().enumerate() {
                if k > 0 {
                    bterm *= 2.0 * x / abs_d * k as f64;
                }
                *l += bterm;
            }
        };
        for d in &self.d[k0..] {
            let inv_d = 1.0 / (1.0 - 2.0 * s * d);
            let mut term = i * d * inv_d;
            for (k, l) in dl.iter_mut().enumerate() {
                if k > 0 {
                    term *= 2.0 * i * d * inv_d * k as f64;
                }
                *l += term;
            }
            bound_terms(*d, &mut lb);
        }
        if self.rho > 0.0 {
            bound_terms(self.lmax, &mut lb);
            // -1/2 (ln H)^(k+1), times i^(k+1)
            let lh = self.ln_h_derivs(s, MAX_IBP);
            let mut ipow = i;
            for k in 0..MAX_IBP {
                dl[k] -= 0.5 * ipow * lh[k + 1];
                ipow *= i;
            }
        }
        // complete Bell polynomials Y_n (complex, for the terms) and their bounds
        let mut y = vec![Complex::new(1.0, 0.0)];
        let mut yb = vec![1.0f64];
        for nn in 0..MAX_IBP {
            let mut acc = Complex::new(0.0, 0.0);
            let mut accb = 0.0;
            let mut binom = 1.0;
            for k in 0..=nn {
                if k > 0 {
                    binom *= (nn + 1 - k) as f64 / k as f64;
                }
                acc += binom * y[nn - k] * dl[k];
                accb += binom * yb[nn - k] * lb[k];
            }
            y.push(acc);
            yb.push(accb);
        }
        let babs = lnb.exp();
        let b = Complex::from_polar(babs, arg); // B(T) = A(T)/exp(r0)
        let int_abs = if nu > 1.0 {
            babs * t / (nu - 1.0)
        } else {
            f64::INFINITY
        };
        let phase = Complex::from_polar(1.0, -q * t);
        let iq = Complex::new(0.0, q);
        let mut best = (0.0, int_abs);
        let mut sum = Complex::new(0.0, 0.0);
        let mut iq_pow = iq;
        for nn in 0..MAX_IBP {
            sum += b * y[nn] / iq_pow;
            iq_pow *= iq;
            let bound = yb[nn + 1] / q.powi(nn as i32 + 1) * int_abs;
            if bound < best.1 {
                best = ((phase * sum).re, bound);
            }
        }
        best
    }
}

/// `P(Q > q)` and `P(Q <= q)` for `Q = sum lambda_j chi^2_1` (see [`QuadForm::tails`]).
#[cfg(test)]
pub(crate) fn quad_form_tails(lambda: &[f64], q: f64, rel_tol: f64) -> QuadFormTails {
    QuadForm::from_eigenvalues(lambda).tails(q, rel_tol)
}

/// Imhof's integral for eigenvalues `lam` (no chi-square shortcut; for tests).
#[cfg(test)]
fn imhof(lam: &[f64], q: f64, rel_tol: f64) -> QuadFormTails {
    QuadForm::from_eigenvalues(lam).imhof(q, rel_tol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b { 0.0 } else { (a - b).abs() / b.abs() }
    }

    /// `P(lambda1 X1 + lambda2 X2 > q)`, X ~ chi^2_1, by polar coordinates: with
    /// `X1 = R cos^2 u`, `X2 = R sin^2 u`, `R ~ chi^2_2`, `u ~ U(0, 2 pi)`:
    /// `(1/pi) int_0^pi exp(-q / (2 (lambda1 cos^2 u + lambda2 sin^2 u))) du`, a smooth
    /// periodic integrand on which the trapezoidal rule converges geometrically.
    fn two_eigen_sf(l1: f64, l2: f64, q: f64) -> f64 {
        let n = 20_000;
        let h = std::f64::consts::PI / n as f64;
        (0..n)
            .map(|j| {
                let u = (j as f64 + 0.5) * h;
                (-q / (2.0 * (l1 * u.cos().powi(2) + l2 * u.sin().powi(2)))).exp()
            })
            .sum::<f64>()
            * h
            / std::f64::consts::PI
    }

    #[test]
    fn equal_eigenvalues_are_chi_square_through_the_integral() {
        // the general integral (not the chi-square shortcut) against the exact law
        for (m, lam, q) in [
            (1usize, 2.0, 3.0),
            (1, 1.0, 40.0),
            (2, 0.5, 0.01),
            (4, 0.5, 1.0),
            (9, 3.0, 60.0),
            (30, 1.0, 10.0),
            (30, 1.0, 90.0),
            (200, 0.1, 25.0),
        ] {
            let l = vec![lam; m];
            let r = imhof(&l, q, 1e-13);
            let up = chisq_sf(q / lam, m as f64);
            let lo = chisq_cdf(q / lam, m as f64);
            let (got, want) = if up < lo {
                (r.upper, up)
            } else {
                (r.lower, lo)
            };
            assert!(r.converged, "m={m} q={q}: not converged, error {}", r.error);
            assert!(rel(got, want) < 1e-12, "m={m} q={q}: {got} vs {want}");
            assert!(r.error <= 1e-12 * want);
        }
    }

    #[test]
    fn two_eigenvalues_match_the_polar_form() {
        for (l1, l2, q) in [
            (1.0, 4.0, 5.0),
            (1.0, 4.0, 0.05),
            (1.0, 1e4, 3e5),
            (1e-6, 1.0, 1e-3),
            (2.0, 3.0, 60.0),
        ] {
            let want = two_eigen_sf(l1, l2, q);
            let r = quad_form_tails(&[l1, l2], q, 1e-13);
            let (got, w) = if want < 0.5 {
                (r.upper, want)
            } else {
                (r.lower, 1.0 - want)
            };
            assert!(r.converged);
            assert!(rel(got, w) < 1e-11, "{l1} {l2} {q}: {got} vs {w}");
        }
    }

    #[test]
    fn paired_eigenvalues_have_an_elementary_law() {
        // l1 chi^2_2 + l2 chi^2_2: P(Q > q) = (l1 e^{-q/(2 l1)} - l2 e^{-q/(2 l2)})/(l1 - l2)
        for (l1, l2, q) in [(1.0f64, 3.0, 2.0), (0.01, 5.0, 100.0), (1.0, 1e5, 1e7)] {
            let want = (l1 * (-q / (2.0 * l1)).exp() - l2 * (-q / (2.0 * l2)).exp()) / (l1 - l2);
            let r = quad_form_tails(&[l1, l1, l2, l2], q, 1e-13);
            assert!(r.converged);
            let (got, w) = if want < 0.5 {
                (r.upper, want)
            } else {
                (r.lower, 1.0 - want)
            };
            assert!(rel(got, w) < 1e-12, "{l1} {l2} {q}: {got} vs {w}");
        }
    }

    #[test]
    fn huge_eigenvalue_ratios_converge() {
        // ratio 1e8 and many tiny eigenvalues: the mean and both tails are consistent
        let mut lam = vec![1.0, 0.5];
        lam.extend((0..60).map(|j| 1e-8 * (1.0 + j as f64)));
        for q in [0.01, 0.3, 1.5, 4.0, 30.0] {
            let r = quad_form_tails(&lam, q, 1e-13);
            assert!(r.converged, "q={q}");
            assert!((r.upper + r.lower - 1.0).abs() < 1e-15);
            assert!(r.upper > 0.0 && r.lower > 0.0);
        }
    }

    /// R reference (`tests/fixtures/genq.json`, written by `generate_genq.R`): Imhof's
    /// integral along a parabolic contour by `integrate()`, and closed forms.
    #[test]
    fn matches_the_r_reference() {
        let j: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/genq.json")).unwrap();
        let cases = j["distribution"].as_array().unwrap();
        let mut worst: std::collections::BTreeMap<String, (usize, f64, f64, f64)> =
            Default::default();
        let (mut c0_n, mut c0_worst) = (0usize, 0.0f64);
        for c in cases {
            let fam = c["family"].as_str().unwrap().to_string();
            let lam: Vec<f64> = c["lambda"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let q = c["q"].as_f64().unwrap();
            let r = quad_form_tails(&lam, q, 1e-12);
            assert!(
                r.converged,
                "{fam} m={} q={q}: error {}",
                lam.len(),
                r.error
            );
            let (up, lo) = (c["upper"].as_f64().unwrap(), c["lower"].as_f64().unwrap());
            // the tail the reference computes directly is relatively accurate; the other is
            // 1 - it
            let (mine, theirs) = if c["side"] == "upper" {
                (r.upper, up)
            } else {
                (r.lower, lo)
            };
            let e_small = rel(mine, theirs);
            let e_other = rel(r.upper + r.lower - mine, up + lo - theirs);
            let mut e_exact = 0.0f64;
            if let Some(eu) = c["exact_upper"].as_f64() {
                let el = c["exact_lower"].as_f64();
                e_exact = if c["side"] == "upper" {
                    rel(r.upper, eu)
                } else {
                    // without an exact lower tail, 1 - exact_upper is exact only absolutely
                    match el {
                        Some(el) => rel(r.lower, el),
                        None => (r.lower - (1.0 - eu)).abs() / r.lower.max(1e-3),
                    }
                };
            }
            let msg_ok = c["message"] == "OK";
            let tol = if msg_ok { 2e-12 } else { 1e-9 };
            assert!(
                e_small <= tol && e_other <= 1e-13 && e_exact <= 2e-12,
                "{fam} m={} q={q}: {mine:e} vs {theirs:e} ({e_small:e}), other {e_other:e}, exact {e_exact:e}",
                lam.len()
            );
            let w = worst.entry(fam).or_insert((0, 0.0, 0.0, 0.0));
            w.0 += 1;
            w.1 = w.1.max(e_small);
            w.2 = w.2.max(e_other);
            w.3 = w.3.max(e_exact);
            if c["imhof_c0_message"] == "OK" {
                c0_n += 1;
                c0_worst = c0_worst.max((r.upper - c["imhof_c0_upper"].as_f64().unwrap()).abs());
            }
        }
        for (fam, (n, a, b, e)) in &worst {
            eprintln!(
                "quadform {fam:>6}: {n:>3} cases, worst rel. error smaller tail {a:.1e}, larger tail {b:.1e}, vs closed form {e:.1e}"
            );
        }
        eprintln!(
            "quadform: Imhof's c = 0 integral where integrate() reported OK: {c0_n} cases, worst abs. difference {c0_worst:.1e}"
        );
        assert!(c0_worst < 1e-6);
    }
}
