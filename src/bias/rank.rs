//! The rank correlation test for funnel-plot asymmetry (Begg & Mazumdar 1994), metafor's
//! `ranktest`: Kendall's tau between the standardized estimates and the sampling
//! variances, with R's `cor.test(method = "kendall")` p-value.

use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::numeric::dist::norm_sf;

/// Largest `k` for which the exact null distribution of Kendall's statistic is computed
/// (O(k^3) time at worst, a few milliseconds at k = 1000). Beyond it the normal
/// approximation is used.
pub const EXACT_MAX_K: usize = 1000;

/// Specification of the rank correlation test (metafor's `ranktest`).
///
/// # Examples
///
/// ```
/// use metan::Studies;
/// use metan::bias::RankTest;
/// let s = Studies::from_variances(
///     vec![0.8, 0.5, 0.62, 0.2, 0.35, 0.1],
///     vec![0.20, 0.11, 0.15, 0.02, 0.05, 0.01],
/// )?;
/// let r = RankTest::new().run(&s)?;
/// assert!(r.tau() > 0.0);                    // larger variances, larger effects
/// assert!(r.exact());                        // no ties: exact p-value
/// assert!(r.p_value() > 0.0 && r.p_value() <= 1.0);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RankTest {
    exact: bool,
}

impl Default for RankTest {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of [`RankTest::run`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RankTestFit {
    k: usize,
    tau: f64,
    p_value: f64,
    exact: bool,
    statistic: f64,
}

impl RankTest {
    /// The exact p-value whenever there are no ties (metafor's default `exact = TRUE`).
    pub fn new() -> Self {
        RankTest { exact: true }
    }

    /// Whether to compute the exact p-value when there are no ties (default true, as
    /// metafor). With ties, or `false`, the normal approximation is used.
    pub fn exact(mut self, yes: bool) -> Self {
        self.exact = yes;
        self
    }

    /// Runs the test.
    ///
    /// # Formula
    /// With `w_i = 1/v_i`, `theta = sum(w y)/sum(w)`, `v*_i = v_i - 1/sum(w)` and
    /// `y*_i = (y_i - theta)/sqrt(v*_i)`: Kendall's `tau_b` between `y*` and `v`,
    /// `tau = S / sqrt((n0 - n1)(n0 - n2))` with `S` the sum of the signs of concordance
    /// over all pairs, `n0 = k(k-1)/2` and `n1`, `n2` the pairs tied in `y*` and in `v`.
    ///
    /// Without ties, the p-value is exact: `T`, the number of concordant pairs, has the
    /// distribution of the number of inversions of a random permutation,
    /// `P_k(t) = (1/k) sum_{i=0}^{k-1} P_{k-1}(t - i)`, and `p = min(1, 2 P(T <= min(T, n0 - T)))`
    /// (the distribution is symmetric). It is computed in probability space, so that it never
    /// overflows (R counts permutations in doubles and divides by `k!`, which gives `NaN` for
    /// `k > 170`). With ties (or `exact(false)`, or `k >` [`EXACT_MAX_K`]) the normal
    /// approximation with R's tie-corrected variance is used:
    /// `var(S) = (v0 - vt - vu)/18 + v1/(2k(k-1)) + v2/(9k(k-1)(k-2))`,
    /// `p = 2 P(Z > |S|/sqrt(var(S)))`.
    ///
    /// # Errors
    /// [`MetaError::TooFewStudies`] for `k < 2`, or when all standardized estimates, or all
    /// sampling variances, are equal (tau is then undefined).
    ///
    /// # Examples
    /// ```
    /// use metan::Studies;
    /// use metan::bias::RankTest;
    /// // tied variances: normal approximation
    /// let s = Studies::from_variances(vec![0.1, 0.4, 0.2, 0.9], vec![0.01, 0.04, 0.04, 0.09])?;
    /// let r = RankTest::new().run(&s)?;
    /// assert!(!r.exact());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// # References
    /// Begg, C. B., & Mazumdar, M. (1994). Operating characteristics of a rank correlation
    /// test for publication bias. *Biometrics*, 50, 1088-1101. Kendall, M. G. (1970).
    /// *Rank correlation methods* (4th ed.). Griffin. Knight, W. R. (1966). A computer
    /// method for calculating Kendall's tau with ungrouped data. *JASA*, 61, 436-439.
    pub fn run(&self, studies: &Studies) -> Result<RankTestFit> {
        studies.check_range()?;
        let k = studies.k();
        if k < 2 {
            return Err(MetaError::TooFewStudies {
                analysis: "the rank correlation test".into(),
                needed: 2,
                found: k,
            });
        }
        let y = studies.yi();
        let v = studies.vi();
        let mut sw = 0.0;
        let mut swy = 0.0;
        for (yi, vi) in y.iter().zip(v) {
            let w = 1.0 / vi;
            sw += w;
            swy += w * yi;
        }
        let theta = swy / sw;
        let vb = 1.0 / sw;
        let ystar: Vec<f64> = y
            .iter()
            .zip(v)
            .map(|(yi, vi)| (yi - theta) / (vi - vb).sqrt())
            .collect();
        let kt = kendall(&ystar, v);
        if kt.vx == 0 || kt.vy == 0 {
            let what = if kt.vx == 0 {
                "standardized estimates"
            } else {
                "sampling variances"
            };
            return Err(MetaError::TooFewStudies {
                analysis: format!("the rank correlation test (studies with distinct {what})"),
                needed: 2,
                found: 1,
            });
        }
        let tau = kt.s as f64 / ((kt.vx as f64).sqrt() * (kt.vy as f64).sqrt());
        if !tau.is_finite() || ystar.iter().any(|a| !a.is_finite()) {
            return Err(MetaError::Numerical {
                context: "Kendall's tau of the rank correlation test".into(),
            });
        }
        let ties = kt.ties_x.n_pairs > 0 || kt.ties_y.n_pairs > 0;
        let n = k as f64;
        if self.exact && !ties && k <= EXACT_MAX_K {
            // number of concordant pairs, as R: round((tau + 1) n (n - 1) / 4)
            let q = ((tau + 1.0) * n * (n - 1.0) / 4.0).round_ties_even();
            let n0 = (k * (k - 1) / 2) as f64;
            let m = if q > n0 / 2.0 { n0 - q } else { q };
            let p = (2.0 * kendall_cdf(m.max(0.0) as usize, k)).min(1.0);
            Ok(RankTestFit {
                k,
                tau,
                p_value: p,
                exact: true,
                statistic: q,
            })
        } else {
            let t0 = n * (n - 1.0) / 2.0;
            let (tx, ty) = (&kt.ties_x, &kt.ties_y);
            let s = tau * ((t0 - tx.n_pairs as f64) * (t0 - ty.n_pairs as f64)).sqrt();
            let v0 = n * (n - 1.0) * (2.0 * n + 5.0);
            let var_s = (v0 - tx.v2n5 - ty.v2n5) / 18.0
                + tx.v11 * ty.v11 / (2.0 * n * (n - 1.0))
                + tx.v12 * ty.v12 / (9.0 * n * (n - 1.0) * (n - 2.0));
            let z = s / var_s.sqrt();
            let p = 2.0 * norm_sf(z.abs());
            if !p.is_finite() {
                return Err(MetaError::Numerical {
                    context: "normal approximation of the rank correlation test".into(),
                });
            }
            Ok(RankTestFit {
                k,
                tau,
                p_value: p,
                exact: false,
                statistic: z,
            })
        }
    }
}

impl RankTestFit {
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Kendall's tau (tau_b when there are ties).
    pub fn tau(&self) -> f64 {
        self.tau
    }
    /// Two-sided p-value.
    pub fn p_value(&self) -> f64 {
        self.p_value
    }
    /// True when the p-value is exact, false for the normal approximation.
    pub fn exact(&self) -> bool {
        self.exact
    }
    /// The test statistic: the number of concordant pairs `T` for the exact test, the
    /// standardized `z` for the normal approximation (R's `cor.test` statistic).
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
}

impl std::fmt::Display for RankTestFit {
    /// The layout of metafor's `print.ranktest`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::format::{fcf, pval_str};
        writeln!(f)?;
        writeln!(f, "Rank Correlation Test for Funnel Plot Asymmetry")?;
        writeln!(f)?;
        writeln!(
            f,
            "Kendall's tau = {}, p {}",
            fcf(self.tau, 4),
            pval_str(self.p_value, 4, true, " ")
        )?;
        writeln!(f)
    }
}

/// Tie summaries of one variable: pairs tied, and R's sums over tie groups of size `t`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Ties {
    /// `sum t(t-1)/2`.
    n_pairs: u64,
    /// `sum t(t-1)(2t+5)`.
    v2n5: f64,
    /// `sum t(t-1)`.
    v11: f64,
    /// `sum t(t-1)(t-2)`.
    v12: f64,
}

impl Ties {
    fn add_group(&mut self, t: u64) {
        if t > 1 {
            let tf = t as f64;
            self.n_pairs += t * (t - 1) / 2;
            self.v2n5 += tf * (tf - 1.0) * (2.0 * tf + 5.0);
            self.v11 += tf * (tf - 1.0);
            self.v12 += tf * (tf - 1.0) * (tf - 2.0);
        }
    }
}

/// Kendall's concordance sum and tie counts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct KendallSums {
    /// `sum_{i<j} sign(x_i - x_j) sign(y_i - y_j)`.
    s: i64,
    /// Pairs not tied in x.
    vx: u64,
    /// Pairs not tied in y.
    vy: u64,
    ties_x: Ties,
    ties_y: Ties,
}

/// Knight's (1966) O(n log n) algorithm: sort by (x, y), count the ties, and count the
/// discordant pairs as the inversions of y by merge sort. All counts are integers, so the
/// result equals the O(n^2) sum of sign products exactly.
fn kendall(x: &[f64], y: &[f64]) -> KendallSums {
    let n = x.len();
    let cmp = |a: f64, b: f64| a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal);
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&i, &j| cmp(x[i], x[j]).then(cmp(y[i], y[j])));
    let mut ties_x = Ties::default();
    let mut joint: u64 = 0;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && x[idx[j]] == x[idx[i]] {
            j += 1;
        }
        ties_x.add_group((j - i) as u64);
        // joint ties inside the x group (sorted by y there)
        let mut a = i;
        while a < j {
            let mut b = a + 1;
            while b < j && y[idx[b]] == y[idx[a]] {
                b += 1;
            }
            let t = (b - a) as u64;
            joint += t * t.saturating_sub(1) / 2;
            a = b;
        }
        i = j;
    }
    // inversions of y in this order
    let mut ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
    let mut buf = vec![0.0; n];
    let swaps = merge_count(&mut ys, &mut buf);
    // ys is now sorted: ties in y
    let mut ties_y = Ties::default();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && ys[j] == ys[i] {
            j += 1;
        }
        ties_y.add_group((j - i) as u64);
        i = j;
    }
    let n0 = (n as u64) * (n as u64).saturating_sub(1) / 2;
    let s =
        n0 as i64 - ties_x.n_pairs as i64 - ties_y.n_pairs as i64 + joint as i64 - 2 * swaps as i64;
    KendallSums {
        s,
        vx: n0 - ties_x.n_pairs,
        vy: n0 - ties_y.n_pairs,
        ties_x,
        ties_y,
    }
}

/// Sorts `a` ascending (bottom-up merge sort) and returns the number of pairs `i < j`
/// with `a_i > a_j` (strictly).
fn merge_count(a: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = a.len();
    let mut swaps = 0u64;
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j, mut o) = (lo, mid, lo);
            while i < mid && j < hi {
                if a[j] < a[i] {
                    buf[o] = a[j];
                    swaps += (mid - i) as u64;
                    j += 1;
                } else {
                    buf[o] = a[i];
                    i += 1;
                }
                o += 1;
            }
            buf[o..o + (mid - i)].copy_from_slice(&a[i..mid]);
            o += mid - i;
            buf[o..o + (hi - j)].copy_from_slice(&a[j..hi]);
            a[lo..hi].copy_from_slice(&buf[lo..hi]);
            lo = hi;
        }
        width *= 2;
    }
    swaps
}

/// `P(T <= m)` for `T` the number of concordant pairs among `n` pairs of observations
/// without ties under independence (the number of inversions of a uniformly random
/// permutation of `n`): R's `pkendall` (`.Call(stats:::C_pKendall, m, n)`), used by
/// [`RankTest`] for exact p-values.
///
/// # Formula
/// The number of inversions is a sum of independent uniforms on `{0, ..., j - 1}`,
/// `j = 1..n`, so its CDF obeys `C_1(t) = 1` (`t >= 0`) and
/// `C_j(t) = (1/j) sum_{i=0}^{j-1} C_{j-1}(t - i)` (`C = 0` below 0, `1` above
/// `j(j-1)/2`). Only the `t` that can still reach `m` are kept
/// (`m - (N_n - N_j) <= t <= min(m, N_j)`, `N_j = j(j-1)/2`), and each window sum is
/// updated in O(1), in several independent running sums: at most about `n^3/10`
/// operations. Probabilities, not permutation counts, are carried, so nothing overflows
/// (R's counts overflow for `n > 170`).
///
/// # Examples
/// ```
/// use metan::bias::kendall_cdf;
/// // n = 3: inversion counts 1, 2, 2, 1 of the 6 permutations
/// assert!((kendall_cdf(1, 3) - 0.5).abs() < 1e-15);
/// assert_eq!(kendall_cdf(3, 3), 1.0);
/// ```
///
/// # References
/// Kendall, M. G. (1970). *Rank correlation methods* (4th ed.), ch. 4. Griffin.
pub fn kendall_cdf(m: usize, n: usize) -> f64 {
    let total = n * n.saturating_sub(1) / 2;
    if m >= total {
        return 1.0;
    }
    // buffers indexed by t + off; t in [-n, 0) holds the zeros below the support
    let off = n;
    let mut a = vec![0.0f64; off + m + 1]; // C_{j-1}
    let mut b = vec![0.0f64; off + m + 1]; // C_j
    // C_1(t) = 1 for t >= 0 (up to what row 2 reads)
    for x in &mut a[off..=off + m.min(1)] {
        *x = 1.0;
    }
    let mut nj = 0usize; // N_1
    for j in 2..=n {
        nj += j - 1;
        let lo = m.saturating_sub(total - nj);
        let hi = m.min(nj);
        window_means(&a, &mut b, off + lo, off + hi, j);
        // C_j = 1 above its support, up to what row j + 1 reads
        if nj < m {
            for x in &mut b[off + nj + 1..=off + m.min(nj + j)] {
                *x = 1.0;
            }
        }
        std::mem::swap(&mut a, &mut b);
    }
    a[off + m].clamp(0.0, 1.0)
}

/// `dst[t] = mean(src[t - j + 1 ..= t])` for `t` in `lo..=hi` (indices into the buffers),
/// by running window sums, in four independent chains when the range is long.
fn window_means(src: &[f64], dst: &mut [f64], lo: usize, hi: usize, j: usize) {
    let inv = 1.0 / j as f64;
    // the window sum ending at t - 1
    let init = |t: usize| src[t - j..t].iter().sum::<f64>();
    let len = hi + 1 - lo;
    const CHAINS: usize = 4;
    if len < 64 * CHAINS {
        let mut w = init(lo);
        for t in lo..=hi {
            w += src[t] - src[t - j];
            dst[t] = w * inv;
        }
        return;
    }
    let block = len / CHAINS;
    let s = [lo, lo + block, lo + 2 * block, lo + 3 * block];
    let mut w = [init(s[0]), init(s[1]), init(s[2]), init(s[3])];
    {
        // disjoint destination blocks; the added and the dropped source values
        let (d0, rest) = dst[s[0]..].split_at_mut(block);
        let (d1, rest) = rest.split_at_mut(block);
        let (d2, rest) = rest.split_at_mut(block);
        let d3 = &mut rest[..block];
        let add = |c: usize| &src[s[c]..s[c] + block];
        let drop = |c: usize| &src[s[c] - j..s[c] - j + block];
        let (a0, a1, a2, a3) = (add(0), add(1), add(2), add(3));
        let (b0, b1, b2, b3) = (drop(0), drop(1), drop(2), drop(3));
        for i in 0..block {
            w[0] += a0[i] - b0[i];
            d0[i] = w[0] * inv;
            w[1] += a1[i] - b1[i];
            d1[i] = w[1] * inv;
            w[2] += a2[i] - b2[i];
            d2[i] = w[2] * inv;
            w[3] += a3[i] - b3[i];
            d3[i] = w[3] * inv;
        }
    }
    // the last chain's remainder
    let mut wl = w[CHAINS - 1];
    for t in s[CHAINS - 1] + block..=hi {
        wl += src[t] - src[t - j];
        dst[t] = wl * inv;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn brute(x: &[f64], y: &[f64]) -> (i64, u64, u64) {
        let mut s = 0i64;
        let (mut vx, mut vy) = (0u64, 0u64);
        for i in 0..x.len() {
            for j in 0..i {
                let sx = (x[i] - x[j]).signum() as i64 * i64::from(x[i] != x[j]);
                let sy = (y[i] - y[j]).signum() as i64 * i64::from(y[i] != y[j]);
                s += sx * sy;
                vx += (sx * sx) as u64;
                vy += (sy * sy) as u64;
            }
        }
        (s, vx, vy)
    }

    #[test]
    fn knight_equals_brute_force_with_ties() {
        let x = [3.0, 1.0, 2.0, 2.0, 5.0, 1.0, 4.0, 2.0, 0.5];
        let y = [1.0, 1.0, 2.0, 3.0, 2.0, 0.0, 1.0, 3.0, 7.0];
        let k = kendall(&x, &y);
        assert_eq!((k.s, k.vx, k.vy), brute(&x, &y));
        assert_eq!(k.ties_x.n_pairs, 3 + 1); // {2,2,2}: 3 pairs, {1,1}: 1
    }

    /// The plain recursion over all t <= m (prefix sums of the point probabilities).
    fn kendall_cdf_plain(m: usize, n: usize) -> f64 {
        let total = n * n.saturating_sub(1) / 2;
        if m >= total {
            return 1.0;
        }
        let mut p = vec![0.0f64; m + 1];
        p[0] = 1.0;
        let mut top = 0usize;
        for j in 2..=n {
            let new_top = (top + j - 1).min(m);
            let mut acc = 0.0;
            for t in p.iter_mut().take(new_top + 1) {
                acc += *t;
                *t = acc;
            }
            let inv = 1.0 / j as f64;
            for t in (0..=new_top).rev() {
                let lower = if t >= j { p[t - j] } else { 0.0 };
                p[t] = (p[t] - lower) * inv;
            }
            top = new_top;
        }
        p.iter().sum::<f64>()
    }

    #[test]
    fn windowed_cdf_equals_plain_recursion() {
        for n in [2usize, 3, 5, 9, 17, 40, 64, 101, 180] {
            let total = n * (n - 1) / 2;
            for m in [0, 1, 2, total / 7, total / 3, total / 2, total - 1] {
                let (a, b) = (kendall_cdf(m, n), kendall_cdf_plain(m, n));
                assert!((a - b).abs() <= 1e-13 * b, "n={n} m={m}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn cdf_small_n_by_enumeration() {
        // n = 4: inversion counts of the 24 permutations: 1 3 5 6 5 3 1
        let counts = [1.0, 3.0, 5.0, 6.0, 5.0, 3.0, 1.0];
        let mut cum = 0.0;
        for (m, c) in counts.iter().enumerate() {
            cum += c;
            assert!((kendall_cdf(m, 4) - cum / 24.0).abs() < 1e-15);
        }
        assert_eq!(kendall_cdf(100, 4), 1.0);
    }
}
