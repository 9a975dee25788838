//! `sum(ln(x))` without one logarithm per term.
//!
//! Log-likelihoods need `sum ln(v_i + tau2)` over all k studies, and a logarithm costs
//! about 20 times a multiplication. Each positive normal `x` is split exactly into its
//! binary exponent `e` and mantissa `m` in `[1, 2)` (`x = m 2^e`, read off the bits). The
//! exponents are summed as integers, which is exact, and the mantissas are multiplied in
//! four independent lanes, renormalised every 256 terms so the products stay far from
//! overflow. Then
//!
//! `sum ln(x) = sum_lanes ln(prod m) + (sum e) ln 2`,
//!
//! with `ln 2` split into a head with few significant bits (so `(sum e) * head` is exact)
//! and a tail.
//!
//! # Accuracy
//! Each multiplication rounds with relative error at most `u = 2^-53`, so the result is
//! within `n u` of the exact sum in absolute terms (`n` terms), plus one rounding per lane
//! logarithm; in practice `sqrt(n) u`. The plain left-to-right sum of `n` rounded
//! logarithms is only within `n u sum |ln x|`, so this is the more accurate of the two.
//!
//! Zeros, subnormals, infinities, negatives and NaNs take the plain path term by term,
//! giving the same `-inf`/`inf`/`NaN` as `sum(ln(x))`.

/// `ln 2` split as `LN2_HI + LN2_LO`: `LN2_HI` has 32 significant bits, so `n * LN2_HI` is
/// exact for `|n| < 2^21` and has error below `2^-53` relative otherwise.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 0.693147180369123816...
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.90821492927058770e-10

const EXP_MASK: u64 = 0x7ff0_0000_0000_0000;
const MANT_MASK: u64 = 0x000f_ffff_ffff_ffff;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;

/// Splits a positive normal `x` into `(m, e)` with `x = m 2^e`, `1 <= m < 2`, or `None`
/// for zero, subnormal, infinite, negative and NaN values.
#[inline(always)]
fn split(x: f64) -> Option<(f64, i64)> {
    let bits = x.to_bits();
    let biased = ((bits & EXP_MASK) >> 52) as i64;
    if x > 0.0 && biased != 0 && biased != 0x7ff {
        Some((f64::from_bits((bits & MANT_MASK) | ONE_BITS), biased - 1023))
    } else {
        None
    }
}

/// `sum(ln(x))` for the values of `x`.
///
/// # Formula
/// `sum ln(x_i) = ln(prod m_i) + (sum e_i) ln 2` with `x_i = m_i 2^(e_i)`, `m_i` in `[1, 2)`.
///
/// # References
/// Goldberg, D. (1991). What every computer scientist should know about floating-point
/// arithmetic. *ACM Computing Surveys*, 23, 5-48 (error of products).
pub(crate) fn sum_ln(x: impl Iterator<Item = f64>) -> f64 {
    let mut acc = LnSum::new();
    for a in x {
        acc.push(a);
    }
    acc.value()
}

/// `(sum ln(x + t), sum ln(x))` in one pass over `x`, each exactly as [`sum_ln`] computes it.
pub(crate) fn sum_ln_pair(x: &[f64], t: f64) -> (f64, f64) {
    if let Some(both) = sum_ln_pair_normal(x, t) {
        return both;
    }
    let mut shifted = LnSum::new();
    let mut plain = LnSum::new();
    for &a in x {
        shifted.push(a + t);
        plain.push(a);
    }
    (shifted.value(), plain.value())
}

/// [`sum_ln_pair`] when every `x` and `x + t` is a positive normal number (`None`
/// otherwise): the same products, lanes, renormalisations and exponent sums as
/// [`LnSum::push`], hence the same result to the bit, without its per-term branches. Each
/// block of `RENORM * LANES` terms is one straight loop; one flag collects the terms that
/// need [`LnSum::push`]'s plain path.
fn sum_ln_pair_normal(x: &[f64], t: f64) -> Option<(f64, f64)> {
    /// The mantissa of a positive normal `x` (as [`split`]), its biased exponent, and
    /// whether `x` is anything else (negative, zero, subnormal, infinite or NaN).
    #[inline(always)]
    fn split_bits(x: f64) -> (f64, i64, u64) {
        let bits = x.to_bits();
        let biased = (bits & EXP_MASK) >> 52;
        let other = (bits >> 63) | u64::from(biased == 0) | u64::from(biased == 0x7ff);
        (
            f64::from_bits((bits & MANT_MASK) | ONE_BITS),
            biased as i64,
            other,
        )
    }
    const BLOCK: usize = LnSum::RENORM * LnSum::LANES;
    let mut shifted = LnSum::new();
    let mut plain = LnSum::new();
    let mut other = 0u64;
    for block in x.chunks(BLOCK) {
        let (mut e_shifted, mut e_plain) = (0i64, 0i64);
        let quads = block.chunks_exact(LnSum::LANES);
        let rest = quads.remainder();
        for quad in quads {
            for (l, &a) in quad.iter().enumerate() {
                let (m, e, o) = split_bits(a + t);
                shifted.prod[l] *= m;
                e_shifted += e;
                let (m, e, p) = split_bits(a);
                plain.prod[l] *= m;
                e_plain += e;
                other |= o | p;
            }
        }
        for (l, &a) in rest.iter().enumerate() {
            let (m, e, o) = split_bits(a + t);
            shifted.prod[l] *= m;
            e_shifted += e;
            let (m, e, p) = split_bits(a);
            plain.prod[l] *= m;
            e_plain += e;
            other |= o | p;
        }
        let bias = 1023 * block.len() as i64;
        shifted.exps += e_shifted - bias;
        plain.exps += e_plain - bias;
        if block.len() == BLOCK {
            shifted.renormalise();
            plain.renormalise();
        }
    }
    (other == 0).then(|| (shifted.value(), plain.value()))
}

/// The running state of [`sum_ln`].
struct LnSum {
    prod: [f64; LnSum::LANES],
    exps: i64,
    /// Terms outside the normal positive range.
    plain: f64,
    lane: usize,
    count: usize,
}

impl LnSum {
    const LANES: usize = 4;
    /// Renormalise every `RENORM * LANES` terms: `2^256` is far from overflow.
    const RENORM: usize = 256;

    fn new() -> Self {
        LnSum {
            prod: [1.0; Self::LANES],
            exps: 0,
            plain: 0.0,
            lane: 0,
            count: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, a: f64) {
        match split(a) {
            Some((m, e)) => {
                self.prod[self.lane] *= m;
                self.exps += e;
                self.lane = (self.lane + 1) % Self::LANES;
                self.count += 1;
                if self.count == Self::RENORM * Self::LANES {
                    self.count = 0;
                    self.renormalise();
                }
            }
            None => self.plain += a.ln(),
        }
    }

    /// Moves each lane product's exponent into `exps`, leaving its mantissa.
    #[inline]
    fn renormalise(&mut self) {
        for p in &mut self.prod {
            // every lane product is in [1, 2^256): normal, positive
            if let Some((m, e)) = split(*p) {
                *p = m;
                self.exps += e;
            }
        }
    }

    fn value(&self) -> f64 {
        let lanes: f64 = self.prod.iter().map(|p| p.ln()).sum();
        let n = self.exps as f64;
        let tail = n * LN2_LO + lanes + self.plain;
        n * LN2_HI + tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compensated (Neumaier) sum of `ln(x)`: the reference.
    fn reference(x: &[f64]) -> f64 {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for a in x {
            let t = a.ln();
            let n = s + t;
            c += if s.abs() >= t.abs() {
                (s - n) + t
            } else {
                (t - n) + s
            };
            s = n;
        }
        s + c
    }

    /// The branch-free path of `sum_ln_pair` gives the per-term path's result to the bit
    /// (block boundaries, remainders, a shift), and steps aside for any other term.
    #[test]
    fn pair_fast_path_is_the_slow_path() {
        let slow = |x: &[f64], t: f64| {
            let (mut a, mut b) = (LnSum::new(), LnSum::new());
            for &v in x {
                a.push(v + t);
                b.push(v);
            }
            (a.value(), b.value())
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for n in [0usize, 1, 3, 4, 5, 1023, 1024, 1025, 4096 + 7, 10_001] {
            let x: Vec<f64> = (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    1e-6 + 1e3 * ((state >> 11) as f64 / (1u64 << 53) as f64)
                })
                .collect();
            for t in [0.0, 0.37, 1e6] {
                let fast = sum_ln_pair_normal(&x, t).unwrap();
                let want = slow(&x, t);
                assert_eq!(fast.0.to_bits(), want.0.to_bits(), "n {n} t {t}");
                assert_eq!(fast.1.to_bits(), want.1.to_bits(), "n {n} t {t}");
            }
        }
        for bad in [0.0, -1.0, 1e-310, f64::INFINITY, f64::NAN] {
            let x = [0.5, bad, 2.0];
            assert!(sum_ln_pair_normal(&x, 0.0).is_none(), "{bad}");
            let (a, b) = sum_ln_pair(&x, 0.0);
            let (c, d) = slow(&x, 0.0);
            assert!(
                a.to_bits() == c.to_bits() || (a.is_nan() && c.is_nan()),
                "{bad}"
            );
            assert!(
                b.to_bits() == d.to_bits() || (b.is_nan() && d.is_nan()),
                "{bad}"
            );
        }
    }

    #[test]
    fn split_is_exact() {
        for x in [
            1.0,
            1.5,
            0.1,
            3.0e-300,
            7.7e250,
            f64::MIN_POSITIVE,
            f64::MAX,
        ] {
            let (m, e) = split(x).unwrap();
            assert!((1.0..2.0).contains(&m));
            assert_eq!(m * 2f64.powi(e as i32), x);
        }
        for x in [0.0, -1.0, 1e-310, f64::INFINITY, f64::NAN] {
            assert!(split(x).is_none(), "{x}");
        }
    }

    #[test]
    fn ln2_split_is_ln2() {
        assert_eq!(LN2_HI + LN2_LO, std::f64::consts::LN_2);
        // 32 significant bits: the low 21 mantissa bits are zero
        assert_eq!(LN2_HI.to_bits() & ((1 << 21) - 1), 0);
        const { assert!(LN2_LO < 1e-9 * LN2_HI) };
    }

    #[test]
    fn agrees_with_compensated_sum_of_logs() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut u = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for &(n, lo, hi) in &[
            (1usize, 0.5, 2.0),
            (7, 1e-3, 1e3),
            (1000, 0.01, 0.21),
            (100_003, 1e-8, 1e8),
            (20_000, 1e-300, 1e-290),
            (20_000, 1e290, 1e300),
        ] {
            let x: Vec<f64> = (0..n).map(|_| lo + (hi - lo) * u()).collect();
            let want = reference(&x);
            let got = sum_ln(x.iter().copied());
            let tol = 4.0 * f64::EPSILON * (n as f64).sqrt() * (1.0 + want.abs());
            assert!((got - want).abs() <= tol, "n {n}: {got} vs {want}");
        }
    }

    /// The pair is the two single sums, bit for bit.
    #[test]
    fn pair_is_two_single_sums() {
        let x: Vec<f64> = (0..5000)
            .map(|i| 0.01 + 0.2 * ((i * 7919) % 1000) as f64 / 1e3)
            .collect();
        for t in [0.0, 0.1, 1e-300, 7.5] {
            let (a, b) = sum_ln_pair(&x, t);
            assert_eq!(a, sum_ln(x.iter().map(|v| v + t)));
            assert_eq!(b, sum_ln(x.iter().copied()));
        }
    }

    #[test]
    fn empty_is_zero_and_non_normal_terms_follow_ln() {
        assert_eq!(sum_ln(std::iter::empty()), 0.0);
        assert_eq!(sum_ln([2.0, 0.0].into_iter()), f64::NEG_INFINITY);
        assert!(sum_ln([2.0, -1.0].into_iter()).is_nan());
        assert!(sum_ln([2.0, f64::NAN].into_iter()).is_nan());
        assert_eq!(sum_ln([2.0, f64::INFINITY].into_iter()), f64::INFINITY);
        let sub = 1e-310f64;
        let want = sub.ln() + 3f64.ln();
        assert!((sum_ln([sub, 3.0].into_iter()) - want).abs() < 1e-13 * want.abs());
    }
}
