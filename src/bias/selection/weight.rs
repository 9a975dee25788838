//! The selection functions `w(p; delta)` with their derivatives in delta, the p-value of a
//! standardized effect, and where in the `t = y / sqrt(v)` line each function is flat.

use super::kind::{Alternative, SelectionType};
use crate::numeric::dist::{norm_isf, norm_sf};

/// Beyond `|t| = T_FLAT` the p-value is below `Phi(-9) = 1.1e-19` (or above 1 minus it),
/// and every unclamped selection function is constant there to within `100 * 1.1e-19`
/// relative (`|dw/dp| <= delta_max = 100` at p = 0 and p = 1): the likelihood treats it
/// as exactly constant beyond.
pub(crate) const T_FLAT: f64 = 9.0;

/// A selection function: its type, metafor's `steps` (ending in 1), the direction of the
/// p-values and metafor's `pval.min` (p-values are clamped into `[pval.min, 1 - pval.min]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WeightFn {
    pub kind: SelectionType,
    pub steps: Vec<f64>,
    pub alternative: Alternative,
    pub pval_min: f64,
}

/// `w`, `dw/ddelta_j` and `d2w/(ddelta_j ddelta_l)` (packed `[00, 01, 11]`) of a
/// continuous selection function (at most two deltas).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct WDerivs {
    pub w: f64,
    pub d: [f64; 2],
    pub dd: [f64; 3],
}

impl WeightFn {
    /// The number of deltas (metafor's `deltas`): one per step interval for the step
    /// function (the first fixed at 1), two for the beta type, one otherwise.
    pub(crate) fn n_delta(&self) -> usize {
        match self.kind {
            SelectionType::StepFunction => self.steps.len(),
            SelectionType::Beta => 2,
            SelectionType::HalfNormal
            | SelectionType::NegativeExponential
            | SelectionType::Logistic
            | SelectionType::Power => 1,
        }
    }

    /// The deltas that are estimated (all but the first one of the step function).
    pub(crate) fn free(&self) -> std::ops::Range<usize> {
        match self.kind {
            SelectionType::StepFunction => 1..self.steps.len(),
            _ => 0..self.n_delta(),
        }
    }

    /// The single step `s` of a continuous type (0 when none was given, and for the beta
    /// type and the step function, which have none).
    pub(crate) fn step(&self) -> f64 {
        match self.kind {
            SelectionType::StepFunction | SelectionType::Beta => 0.0,
            SelectionType::HalfNormal
            | SelectionType::NegativeExponential
            | SelectionType::Logistic
            | SelectionType::Power => self.steps[0],
        }
    }

    /// The p-value of a standardized effect `t = y / sqrt(v)` (metafor's `.selmodel.pval`),
    /// not clamped.
    pub(crate) fn p_of_t(&self, t: f64) -> f64 {
        match self.alternative {
            Alternative::Greater => norm_sf(t),
            Alternative::Less => norm_sf(-t),
            Alternative::TwoSided => 2.0 * norm_sf(t.abs()),
        }
    }

    /// `p` clamped into `[pval.min, 1 - pval.min]`.
    pub(crate) fn clamp(&self, p: f64) -> f64 {
        if self.pval_min > 0.0 {
            p.max(self.pval_min).min(1.0 - self.pval_min)
        } else {
            p
        }
    }

    /// The step interval of a p-value (metafor's `which(p <= steps)[1]`), zero-based.
    pub(crate) fn group(&self, p: f64) -> usize {
        self.steps
            .iter()
            .position(|&a| p <= a)
            .unwrap_or(self.steps.len() - 1)
    }

    /// The selection function at `p` (already clamped), as metafor's `wi.fun` with
    /// `preci = 1`.
    pub(crate) fn w(&self, p: f64, delta: &[f64]) -> f64 {
        match self.kind {
            SelectionType::StepFunction => delta[self.group(p)],
            _ => self.log_w_derivs(p, delta).0.exp(),
        }
    }

    /// `ln w(p)` of a continuous type at a clamped `p`, with its first and second
    /// derivatives in the deltas.
    pub(crate) fn log_w_derivs(&self, p: f64, delta: &[f64]) -> (f64, [f64; 2], [f64; 3]) {
        let s = self.step();
        let flat = (0.0, [0.0; 2], [0.0; 3]);
        match self.kind {
            SelectionType::StepFunction => {
                let j = self.group(p);
                (delta[j].ln(), [0.0; 2], [0.0; 3])
            }
            SelectionType::Beta => {
                let (lp, lq) = (p.ln(), (1.0 - p).ln());
                (
                    (delta[0] - 1.0) * lp + (delta[1] - 1.0) * lq,
                    [lp, lq],
                    [0.0; 3],
                )
            }
            _ if p <= s => flat,
            SelectionType::HalfNormal => {
                let u = p * p - s * s;
                (-delta[0] * u, [-u, 0.0], [0.0; 3])
            }
            SelectionType::NegativeExponential => {
                let u = p - s;
                (-delta[0] * u, [-u, 0.0], [0.0; 3])
            }
            SelectionType::Logistic => {
                // ln[2 e^(-dp)/(1 + e^(-dp))] = ln 2 - dp - ln(1 + e^(-dp)) = ln 2 - ln(1 + e^(dp))
                let d = delta[0];
                let lw = ln1p_exp(d * s) - ln1p_exp(d * p);
                let (sp, ss) = (sigmoid(d * p), sigmoid(d * s));
                let d1 = -p * sp + s * ss;
                let d2 = -p * p * sp * (1.0 - sp) + s * s * ss * (1.0 - ss);
                (lw, [d1, 0.0], [d2, 0.0, 0.0])
            }
            SelectionType::Power => {
                let u = (1.0 - p).ln() - (1.0 - s).ln();
                (delta[0] * u, [u, 0.0], [0.0; 3])
            }
        }
    }

    /// `w`, `dw/ddelta` and `d2w/ddelta2` of a continuous type at a clamped `p`.
    pub(crate) fn w_derivs(&self, p: f64, delta: &[f64]) -> WDerivs {
        let (lw, d, dd) = self.log_w_derivs(p, delta);
        let w = lw.exp();
        WDerivs {
            w,
            d: [w * d[0], w * d[1]],
            dd: [
                w * (dd[0] + d[0] * d[0]),
                w * (dd[1] + d[0] * d[1]),
                w * (dd[2] + d[1] * d[1]),
            ],
        }
    }

    /// The standardized effect `t >= 0` at which the p-value equals `q` on the side where
    /// p falls to 0 (for the two-sided p-value, `|t|`), or `None` for `q = 0`.
    fn t_at_small_p(&self, q: f64) -> Option<f64> {
        (q > 0.0).then(|| match self.alternative {
            Alternative::Greater | Alternative::Less => norm_isf(q),
            Alternative::TwoSided => norm_isf(0.5 * q),
        })
    }

    /// Where the integrand of a continuous type is smooth: `(lo, hi, interior kinks)` on
    /// the `t` line, such that `w(p(t))` is constant (exactly, or to within the bound of
    /// [`T_FLAT`]) below `lo` and above `hi`.
    pub(crate) fn t_domain(&self) -> (f64, f64, Vec<f64>) {
        let s = self.step();
        // p <= max(pval.min, s): w is flat (clamped, or 1 below the step)
        let q0 = self.pval_min.max(s);
        let t0 = self.t_at_small_p(q0).unwrap_or(T_FLAT).min(T_FLAT);
        // p >= 1 - pval.min: clamped to a constant
        let t1 = (self.pval_min > 0.0).then(|| match self.alternative {
            Alternative::Greater | Alternative::Less => norm_isf(self.pval_min),
            Alternative::TwoSided => norm_isf(0.5 * (1.0 - self.pval_min)),
        });
        let mut kinks = Vec::new();
        match self.alternative {
            Alternative::Greater => {
                let lo = t1.map_or(-T_FLAT, |t| -t.min(T_FLAT));
                (lo, t0, kinks)
            }
            Alternative::Less => {
                let hi = t1.map_or(T_FLAT, |t| t.min(T_FLAT));
                (-t0, hi, kinks)
            }
            Alternative::TwoSided => {
                kinks.push(0.0);
                if let Some(c) = t1 {
                    kinks.insert(0, -c);
                    kinks.push(c);
                }
                (-t0, t0, kinks)
            }
        }
    }

    /// The constant values of `w` (with derivatives) below and above [`WeightFn::t_domain`].
    pub(crate) fn tails(&self, delta: &[f64]) -> (WDerivs, WDerivs) {
        let at0 = self.w_derivs(self.clamp(0.0), delta);
        let at1 = self.w_derivs(self.clamp(1.0), delta);
        match self.alternative {
            Alternative::Greater => (at1, at0),
            Alternative::Less => (at0, at1),
            Alternative::TwoSided => (at0, at0),
        }
    }

    /// The step intervals on the `t` line: for interval `j`, the pieces `(lo, hi)` where
    /// `a_(j-1) < p(t) <= a_j` (one piece, two for two-sided p-values; infinite ends).
    pub(crate) fn step_pieces(&self) -> Vec<Vec<(f64, f64)>> {
        let n = self.steps.len();
        let q = |j: usize| -> f64 {
            // the t with p(t) = a_j on the side where t grows as p falls (a_0 = 0)
            let a = if j == 0 { 0.0 } else { self.steps[j - 1] };
            match self.alternative {
                Alternative::Greater | Alternative::Less => norm_isf(a),
                Alternative::TwoSided => norm_isf(0.5 * a),
            }
        };
        (0..n)
            .map(|j| {
                // a_(j-1) < p <= a_j  <=>  q(j+1) <= t < q(j) (greater)
                let hi = q(j);
                let lo = if j + 1 == n {
                    f64::NEG_INFINITY
                } else {
                    q(j + 1)
                };
                match self.alternative {
                    Alternative::Greater => vec![(lo, hi)],
                    Alternative::Less => vec![(-hi, -lo)],
                    Alternative::TwoSided => {
                        let lo = lo.max(0.0);
                        if lo == 0.0 {
                            vec![(-hi, hi)]
                        } else {
                            vec![(-hi, -lo), (lo, hi)]
                        }
                    }
                }
            })
            .collect()
    }
}

/// `ln(1 + e^x)` without overflow.
fn ln1p_exp(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `1 / (1 + e^(-x))`.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(kind: SelectionType, steps: &[f64], alternative: Alternative) -> WeightFn {
        let pval_min = match kind {
            SelectionType::Beta | SelectionType::Power => 1e-5,
            _ => 0.0,
        };
        WeightFn {
            kind,
            steps: steps.to_vec(),
            alternative,
            pval_min,
        }
    }

    #[test]
    fn weights_match_metafor_formulas() {
        let p = 0.3;
        let d = [1.7];
        let w = |k| wf(k, &[0.0, 1.0], Alternative::Greater).w(p, &d);
        assert!((w(SelectionType::HalfNormal) - (-1.7 * p * p).exp()).abs() < 1e-15);
        assert!((w(SelectionType::NegativeExponential) - (-1.7 * p).exp()).abs() < 1e-15);
        let lg = 2.0 * (-1.7 * p).exp() / (1.0 + (-1.7 * p).exp());
        assert!((w(SelectionType::Logistic) - lg).abs() < 1e-15);
        assert!((w(SelectionType::Power) - (1.0f64 - p).powf(1.7)).abs() < 1e-15);
        let b = wf(SelectionType::Beta, &[1.0], Alternative::Greater).w(p, &[0.5, 2.5]);
        assert!((b - p.powf(-0.5) * (1.0f64 - p).powf(1.5)).abs() < 1e-14);
        // with a step at 0.05: 1 below it, the ratio above
        let h = wf(
            SelectionType::HalfNormal,
            &[0.05, 1.0],
            Alternative::Greater,
        );
        assert_eq!(h.w(0.04, &d), 1.0);
        let r = (-1.7 * p * p).exp() / (-1.7 * 0.05f64 * 0.05).exp();
        assert!((h.w(p, &d) - r).abs() < 1e-15);
    }

    #[test]
    fn delta_derivatives_match_central_differences() {
        for kind in [
            SelectionType::Beta,
            SelectionType::HalfNormal,
            SelectionType::NegativeExponential,
            SelectionType::Logistic,
            SelectionType::Power,
        ] {
            let f = wf(kind, &[0.02, 1.0], Alternative::Greater);
            let f = if kind == SelectionType::Beta {
                wf(kind, &[1.0], Alternative::Greater)
            } else {
                f
            };
            let d0 = [0.8, 1.9];
            let p = 0.41;
            let wd = f.w_derivs(p, &d0);
            let h = 1e-5;
            for j in 0..f.n_delta() {
                let mut up = d0;
                let mut dn = d0;
                up[j] += h;
                dn[j] -= h;
                let (a, b) = (f.w_derivs(p, &up), f.w_derivs(p, &dn));
                let num = (a.w - b.w) / (2.0 * h);
                assert!(
                    (num - wd.d[j]).abs() < 1e-8 * (1.0 + num.abs()),
                    "{kind} d{j}"
                );
                let num2 = (a.d[j] - b.d[j]) / (2.0 * h);
                let packed = if j == 0 { wd.dd[0] } else { wd.dd[2] };
                assert!(
                    (num2 - packed).abs() < 1e-7 * (1.0 + num2.abs()),
                    "{kind} dd{j}"
                );
            }
        }
    }

    #[test]
    fn step_pieces_tile_the_line() {
        let f = wf(
            SelectionType::StepFunction,
            &[0.025, 0.5, 1.0],
            Alternative::Greater,
        );
        let pieces = f.step_pieces();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[0][0].1, f64::INFINITY);
        assert!((pieces[0][0].0 - 1.959963984540054).abs() < 1e-14);
        assert_eq!(pieces[1][0], (0.0, pieces[0][0].0));
        assert_eq!(pieces[2][0].0, f64::NEG_INFINITY);
        let two = wf(
            SelectionType::StepFunction,
            &[0.05, 1.0],
            Alternative::TwoSided,
        );
        let pieces = two.step_pieces();
        assert_eq!(pieces[0].len(), 2);
        assert_eq!(pieces[1].len(), 1);
        assert!((pieces[1][0].1 - 1.959963984540054).abs() < 1e-14);
        // a p-value falls in the interval whose pieces contain its t
        for t in [-3.0, -1.0, 0.3, 1.0, 2.5] {
            let g = two.group(two.p_of_t(t));
            assert!(
                pieces[g].iter().any(|&(lo, hi)| lo <= t && t < hi),
                "t = {t}"
            );
        }
    }
}
