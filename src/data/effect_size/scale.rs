//! Effect sizes that know their scale, and the conversions between scales.
//!
//! An [`Effect<S>`] is an estimate `yi` and its sampling variance `vi` on the scale `S`: a
//! standardized mean difference [`D`], a log odds ratio [`LogOr`], a log risk ratio
//! [`LogRr`], a correlation [`R`] or Fisher's z [`Z`]. Converting is a method of the type,
//! so that only the conversions that make sense can be written: `Effect<D>::to_log_or`,
//! `Effect<LogOr>::to_d`, `Effect<R>::to_d`, `Effect<R>::to_z`, `Effect<Z>::to_r`, ...;
//! a log risk ratio has none (no d or odds ratio follows from a risk ratio without the
//! baseline risk), so `Effect<LogRr>::to_d` does not compile.
//!
//! [`EffectScale`] is the same scale as a run-time value (what [`Measure::scale`]
//! returns), and [`Conversion`] a single step between two scales, used where the scale is
//! only known at run time ([`super::MixedEffectSizes`]).
//!
//! | conversion | formula | reference |
//! |---|---|---|
//! | d to log OR | `ln OR = d pi/sqrt(3)`, `v = v_d pi^2/3` (logistic) or `1.65 d`, `1.65^2 v_d` (normal) | Hasselblad & Hedges (1995); Cox (1970), Sanchez-Meca et al. (2003) |
//! | log OR to d | `d = ln OR sqrt(3)/pi`, `v = 3 v/pi^2` (logistic) or `ln OR/1.65`, `v/1.65^2` (normal) | as above |
//! | r to d | `d = 2r/sqrt(1 - r^2)`, `v_d = 4 v_r/(1 - r^2)^3` | Borenstein et al. (2009), eq. 7.5-7.6 |
//! | d to r | `r = d/sqrt(d^2 + a)`, `v_r = a^2 v_d/(d^2 + a)^3`, `a = (n1 + n2)^2/(n1 n2)` | Borenstein et al. (2009), eq. 7.7-7.9 |
//! | z to r | `r = tanh z`, `v_r = (1 - r^2)^2 v_z` (delta method) | |
//! | r to z | `z = atanh r`, `v_z = v_r/(1 - r^2)^2` (delta method) | Fisher (1921) |
//!
//! # Examples
//! ```
//! use metan::data::effect_size::scale::{D, Effect, LogOr};
//! use metan::data::effect_size::{Ci, OddsRatioMethod, Reported};
//!
//! // a trial reports OR 0.64 (95% CI 0.33 to 1.22); another a d of -0.3 with v = 0.02
//! let or: Effect<LogOr> = Effect::from_reported(0.64, Reported::Ci(Ci::new(0.33, 1.22)))?;
//! let d = Effect::<D>::new(-0.3, 0.02)?;
//! // put both on the d scale
//! let d1 = or.to_d(OddsRatioMethod::Logistic);
//! assert!((d1.yi() - 0.64f64.ln() * 3f64.sqrt() / std::f64::consts::PI).abs() < 1e-15);
//! // or both on the log odds ratio scale
//! let l2 = d.to_log_or(OddsRatioMethod::Logistic);
//! assert!((l2.vi() - 0.02 * std::f64::consts::PI.powi(2) / 3.0).abs() < 1e-15);
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! # References
//! Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
//! *Introduction to Meta-Analysis*, chapter 7. Wiley. Hasselblad, V., & Hedges, L. V.
//! (1995). Meta-analysis of screening and diagnostic tests. *Psychological Bulletin*,
//! 117(1), 167-178. Cox, D. R. (1970). *Analysis of Binary Data*. Methuen.
//! Sanchez-Meca, J., Marin-Martinez, F., & Chacon-Moscoso, S. (2003). Effect-size indices
//! for dichotomized outcomes in meta-analysis. *Psychological Methods*, 8(4), 448-467.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use super::convert::{
    OddsRatioMethod, Reported, d_to_log_odds_ratio_with, d_to_r, log_odds_ratio_to_d_with, r_to_d,
    r_to_z, var_d_to_log_odds_ratio_with, var_log_odds_ratio_to_d_with, wald_variance_checked,
    z_to_r,
};
use super::{Measure, Transform};
use crate::error::{MetaError, Result};

/// The scale an effect size is on, as a run-time value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EffectScale {
    /// A standardized mean difference (Cohen's d or Hedges' g).
    D,
    /// A log odds ratio.
    LogOddsRatio,
    /// A log risk ratio.
    LogRiskRatio,
    /// A correlation coefficient r.
    Correlation,
    /// Fisher's z, `atanh(r)`.
    FisherZ,
}

impl EffectScale {
    /// A short name: `d`, `logOR`, `logRR`, `r` or `z`.
    pub fn name(self) -> &'static str {
        match self {
            EffectScale::D => "d",
            EffectScale::LogOddsRatio => "logOR",
            EffectScale::LogRiskRatio => "logRR",
            EffectScale::Correlation => "r",
            EffectScale::FisherZ => "z",
        }
    }

    /// The measure whose `yi` is on this scale and that a fit on it should carry (for its
    /// back-transformation): SMD, OR, RR, COR or ZCOR.
    pub fn measure(self) -> Measure {
        match self {
            EffectScale::D => Measure::SMD,
            EffectScale::LogOddsRatio => Measure::OR,
            EffectScale::LogRiskRatio => Measure::RR,
            EffectScale::Correlation => Measure::COR,
            EffectScale::FisherZ => Measure::ZCOR,
        }
    }

    /// The map from the natural scale a report uses to this scale: the inverse of the
    /// back-transformation of [`EffectScale::measure`] (`ln` for the ratios, `atanh` of a
    /// correlation for z, the identity for d and r). `None` outside its domain (a ratio
    /// `<= 0`, a correlation outside (-1, 1)).
    pub fn from_natural(self, x: f64) -> Option<f64> {
        let y = self.transform().inverse(x)?;
        self.valid(y).then_some(y)
    }

    fn transform(self) -> Transform {
        match self {
            EffectScale::D | EffectScale::Correlation => Transform::Identity,
            EffectScale::LogOddsRatio | EffectScale::LogRiskRatio => Transform::Exp,
            EffectScale::FisherZ => Transform::Tanh,
        }
    }

    /// What the natural scale holds, in words (for error messages).
    fn natural_domain(self) -> &'static str {
        match self {
            EffectScale::D => "a finite d",
            EffectScale::Correlation => "a correlation in (-1, 1)",
            EffectScale::LogOddsRatio | EffectScale::LogRiskRatio | EffectScale::FisherZ => {
                self.transform().natural_domain()
            }
        }
    }

    /// Whether `yi` is a valid value on this scale (a correlation must lie in (-1, 1)).
    fn valid(self, y: f64) -> bool {
        match self {
            EffectScale::Correlation => y.abs() < 1.0,
            EffectScale::D
            | EffectScale::LogOddsRatio
            | EffectScale::LogRiskRatio
            | EffectScale::FisherZ => y.is_finite(),
        }
    }

    /// The conversions that take a value from this scale to `target`, in order (empty for
    /// the same scale); `None` when there is none: to or from a log risk ratio, and from d
    /// or a log odds ratio to r or z (which need the group sizes: use
    /// [`Effect::<D>::to_r`](Effect::to_r)).
    ///
    /// # Examples
    /// ```
    /// use metan::data::effect_size::{Conversion, EffectScale, OddsRatioMethod};
    /// let m = OddsRatioMethod::Logistic;
    /// assert_eq!(
    ///     EffectScale::FisherZ.path_to(EffectScale::D, m),
    ///     Some(vec![Conversion::ZToR, Conversion::RToD])
    /// );
    /// assert_eq!(EffectScale::LogRiskRatio.path_to(EffectScale::D, m), None);
    /// ```
    pub fn path_to(self, target: EffectScale, method: OddsRatioMethod) -> Option<Vec<Conversion>> {
        use Conversion::*;
        use EffectScale::*;
        if self == target {
            return Some(Vec::new());
        }
        let path = match (self, target) {
            (D, LogOddsRatio) => vec![DToLogOr(method)],
            (LogOddsRatio, D) => vec![LogOrToD(method)],
            (Correlation, D) => vec![RToD],
            (Correlation, LogOddsRatio) => vec![RToD, DToLogOr(method)],
            (Correlation, FisherZ) => vec![RToZ],
            (FisherZ, Correlation) => vec![ZToR],
            (FisherZ, D) => vec![ZToR, RToD],
            (FisherZ, LogOddsRatio) => vec![ZToR, RToD, DToLogOr(method)],
            (D, Correlation | FisherZ | LogRiskRatio)
            | (LogOddsRatio, Correlation | FisherZ | LogRiskRatio)
            | (LogRiskRatio, _)
            | (Correlation | FisherZ, LogRiskRatio)
            | (D, D)
            | (LogOddsRatio, LogOddsRatio)
            | (Correlation, Correlation)
            | (FisherZ, FisherZ) => return None,
        };
        Some(path)
    }
}

impl fmt::Display for EffectScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EffectScale {
    type Err = MetaError;
    /// `d` (or `smd`), `logor` (or `or`), `logrr` (or `rr`), `r` (or `cor`), `z` (or
    /// `zcor`); case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "d" | "smd" => Ok(EffectScale::D),
            "logor" | "or" | "lnor" => Ok(EffectScale::LogOddsRatio),
            "logrr" | "rr" | "lnrr" => Ok(EffectScale::LogRiskRatio),
            "r" | "cor" => Ok(EffectScale::Correlation),
            "z" | "zcor" => Ok(EffectScale::FisherZ),
            _ => Err(MetaError::UnknownName {
                kind: "effect-size scale".into(),
                name: s.to_string(),
                expected: "d, logor, logrr, r, z".into(),
            }),
        }
    }
}

/// One conversion step between two scales (see the [module table](self) for the
/// formulas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Conversion {
    /// d to a log odds ratio (metafor's `D2ORL` / `D2ORN` factor).
    DToLogOr(OddsRatioMethod),
    /// A log odds ratio to d (metafor's `OR2DL` / `OR2DN`).
    LogOrToD(OddsRatioMethod),
    /// A correlation to d (Borenstein et al. 2009, eq. 7.5-7.6).
    RToD,
    /// Fisher's z to a correlation (delta method for the variance).
    ZToR,
    /// A correlation to Fisher's z (delta method for the variance).
    RToZ,
}

impl Conversion {
    /// The scale converted from.
    pub fn from(self) -> EffectScale {
        match self {
            Conversion::DToLogOr(_) => EffectScale::D,
            Conversion::LogOrToD(_) => EffectScale::LogOddsRatio,
            Conversion::RToD | Conversion::RToZ => EffectScale::Correlation,
            Conversion::ZToR => EffectScale::FisherZ,
        }
    }

    /// The scale converted to.
    pub fn to(self) -> EffectScale {
        match self {
            Conversion::DToLogOr(_) => EffectScale::LogOddsRatio,
            Conversion::LogOrToD(_) | Conversion::RToD => EffectScale::D,
            Conversion::ZToR => EffectScale::Correlation,
            Conversion::RToZ => EffectScale::FisherZ,
        }
    }

    /// The formula and its reference, in text (ASCII).
    pub fn formula(self) -> &'static str {
        match self {
            Conversion::DToLogOr(m) => m.d_to_log_or_formula(),
            Conversion::LogOrToD(m) => m.log_or_to_d_formula(),
            Conversion::RToD => "d = 2r/sqrt(1-r^2) (Borenstein et al. 2009)",
            Conversion::ZToR => "r = tanh(z), delta method",
            Conversion::RToZ => "z = atanh(r), delta method",
        }
    }

    /// Applies the conversion to `(yi, vi)`.
    pub fn apply(self, yi: f64, vi: f64) -> (f64, f64) {
        match self {
            Conversion::DToLogOr(m) => (
                d_to_log_odds_ratio_with(yi, m),
                var_d_to_log_odds_ratio_with(vi, m),
            ),
            Conversion::LogOrToD(m) => (
                log_odds_ratio_to_d_with(yi, m),
                var_log_odds_ratio_to_d_with(vi, m),
            ),
            Conversion::RToD => r_to_d(yi, vi),
            Conversion::ZToR => {
                let r = z_to_r(yi);
                let q = 1.0 - r * r;
                (r, q * q * vi)
            }
            Conversion::RToZ => {
                let q = 1.0 - yi * yi;
                (r_to_z(yi), vi / (q * q))
            }
        }
    }
}

impl fmt::Display for Conversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.formula())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A scale at the type level: [`D`], [`LogOr`], [`LogRr`], [`R`] or [`Z`]. Sealed.
pub trait Scale: sealed::Sealed + Copy + fmt::Debug + PartialEq + Default {
    /// The scale as a run-time value.
    const SCALE: EffectScale;
}

macro_rules! scale {
    ($name:ident, $value:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;
        impl sealed::Sealed for $name {}
        impl Scale for $name {
            const SCALE: EffectScale = $value;
        }
    };
}

scale!(
    D,
    EffectScale::D,
    "A standardized mean difference (Cohen's d, Hedges' g)."
);
scale!(
    LogOr,
    EffectScale::LogOddsRatio,
    "A log odds ratio (reported values: odds ratios)."
);
scale!(
    LogRr,
    EffectScale::LogRiskRatio,
    "A log risk ratio (reported values: risk ratios)."
);
scale!(R, EffectScale::Correlation, "A correlation coefficient.");
scale!(
    Z,
    EffectScale::FisherZ,
    "Fisher's z (reported values: correlations)."
);

/// An estimate and its sampling variance on the scale `S`: see the
/// [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Effect<S: Scale> {
    yi: f64,
    vi: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    scale: PhantomData<S>,
}

impl<S: Scale> Effect<S> {
    /// An estimate `yi` on the scale `S` and its sampling variance `vi`.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for a non-finite `yi` (or, for r, one outside
    /// (-1, 1)), or `vi` not finite and `> 0`.
    pub fn new(yi: f64, vi: f64) -> Result<Self> {
        if !S::SCALE.valid(yi) {
            return Err(MetaError::invalid_option(
                "yi",
                yi,
                format!("not a valid value on the {} scale", S::SCALE),
            ));
        }
        if !(vi.is_finite() && vi > 0.0) {
            return Err(MetaError::invalid_option(
                "vi",
                vi,
                "a sampling variance must be finite and > 0",
            ));
        }
        Ok(Effect {
            yi,
            vi,
            scale: PhantomData,
        })
    }

    /// An effect from a reported estimate on its natural scale (an odds ratio for
    /// [`LogOr`], a risk ratio for [`LogRr`], a correlation for [`R`] and [`Z`], d for
    /// [`D`]) and what the report gives about its precision ([`wald_variance`]; metafor 4's
    /// `conv.wald` with `transf`): the estimate and a CI's bounds are mapped to the scale
    /// `S` first (`ln`, `atanh`), a p-value or statistic refers to the Wald test on that
    /// scale, and a standard error is that of the estimate on that scale.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] naming the field for a value outside the natural
    /// domain (an odds ratio `<= 0`, ...) or any error of [`wald_variance`] (a CI that
    /// does not contain the estimate or is too asymmetric on the scale `S`, a p-value of
    /// 0 or 1, a statistic whose sign contradicts the estimate, ...).
    ///
    /// # Examples
    /// ```
    /// use metan::data::effect_size::scale::{Effect, LogOr, Z};
    /// use metan::data::effect_size::{Ci, Reported};
    /// let e = Effect::<LogOr>::from_reported(0.64, Reported::P(0.17))?;
    /// assert!((e.vi() - 0.1058).abs() < 1e-4); // metafor's conv.wald example
    /// // a correlation of 0.3 with its CI computed through Fisher's z
    /// let z = Effect::<Z>::from_reported(0.3, Reported::Ci(Ci::new(0.1, 0.48)))?;
    /// assert!((z.yi() - 0.3f64.atanh()).abs() < 1e-15);
    /// // an odds ratio outside its interval is an error
    /// assert!(Effect::<LogOr>::from_reported(2.0, Reported::Ci(Ci::new(0.5, 1.5))).is_err());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// [`wald_variance`]: super::wald_variance
    pub fn from_reported(estimate: f64, reported: Reported) -> Result<Self> {
        let sc = S::SCALE;
        let (yi, vi) = reported_on(sc.transform(), sc.natural_domain(), estimate, reported)
            .map_err(|(f, v, why)| MetaError::invalid_option(f, v, why))?;
        Effect::new(yi, vi)
    }

    /// The estimate on the scale `S`.
    pub fn yi(&self) -> f64 {
        self.yi
    }
    /// Its sampling variance.
    pub fn vi(&self) -> f64 {
        self.vi
    }
    /// Its standard error, `sqrt(vi)`.
    pub fn se(&self) -> f64 {
        self.vi.sqrt()
    }
    /// The scale, as a run-time value.
    pub fn scale(&self) -> EffectScale {
        S::SCALE
    }

    fn step<T: Scale>(self, c: Conversion) -> Effect<T> {
        let (yi, vi) = c.apply(self.yi, self.vi);
        Effect {
            yi,
            vi,
            scale: PhantomData,
        }
    }
}

impl Effect<D> {
    /// To a log odds ratio ([`Conversion::DToLogOr`]; metafor's `D2ORL`/`D2ORN` factors).
    pub fn to_log_or(self, method: OddsRatioMethod) -> Effect<LogOr> {
        self.step(Conversion::DToLogOr(method))
    }

    /// To a (point-biserial) correlation for groups of sizes `n1` and `n2` (Borenstein et
    /// al. 2009, eq. 7.7-7.9: `r = d/sqrt(d^2 + a)`, `v_r = a^2 v_d/(d^2 + a)^3`,
    /// `a = (n1 + n2)^2/(n1 n2)`).
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for a group size not finite and `> 0`.
    pub fn to_r(self, n1: f64, n2: f64) -> Result<Effect<R>> {
        for (name, n) in [("n1", n1), ("n2", n2)] {
            if !(n.is_finite() && n > 0.0) {
                return Err(MetaError::invalid_option(
                    name,
                    n,
                    "a group size must be finite and > 0",
                ));
            }
        }
        let (yi, vi) = d_to_r(self.yi, self.vi, n1, n2);
        Effect::new(yi, vi)
    }
}

impl Effect<LogOr> {
    /// To d ([`Conversion::LogOrToD`]; metafor's `OR2DL`/`OR2DN`).
    pub fn to_d(self, method: OddsRatioMethod) -> Effect<D> {
        self.step(Conversion::LogOrToD(method))
    }
}

impl Effect<R> {
    /// To d ([`Conversion::RToD`]).
    pub fn to_d(self) -> Effect<D> {
        self.step(Conversion::RToD)
    }
    /// To Fisher's z ([`Conversion::RToZ`]).
    pub fn to_z(self) -> Effect<Z> {
        self.step(Conversion::RToZ)
    }
    /// To a log odds ratio through d.
    pub fn to_log_or(self, method: OddsRatioMethod) -> Effect<LogOr> {
        self.to_d().to_log_or(method)
    }
}

impl Effect<Z> {
    /// To a correlation ([`Conversion::ZToR`]).
    pub fn to_r(self) -> Effect<R> {
        self.step(Conversion::ZToR)
    }
    /// To d through r.
    pub fn to_d(self) -> Effect<D> {
        self.to_r().to_d()
    }
}

/// `(yi, vi)` from a reported estimate on its natural scale: the estimate and a CI's
/// bounds are mapped by `natural` (the inverse of the back-transformation), then
/// [`wald_variance_checked`]; a CI's containment and symmetry are checked here, so that
/// the messages show the reported (natural-scale) values. The one home of this mapping,
/// used by [`Effect::from_reported`] and [`super::MixedEffectSizes`].
pub(crate) fn reported_on(
    natural: Transform,
    domain: &str,
    estimate: f64,
    reported: Reported,
) -> std::result::Result<(f64, f64), super::convert::Invalid> {
    let map = |field: &'static str, x: f64| {
        natural
            .inverse(x)
            .ok_or_else(|| (field, x, format!("a reported value must be {domain}")))
    };
    let yi = map("estimate", estimate)?;
    let on_scale = match reported {
        Reported::Ci(ci) => {
            let (lo, hi) = (ci.lower, ci.upper);
            let (l, u) = (map("ci_lb", lo)?, map("ci_ub", hi)?);
            if !(u > l) {
                return Err((
                    "ci_ub",
                    hi,
                    format!("the upper bound must exceed the lower bound {lo}"),
                ));
            }
            if !(l <= yi && yi <= u) {
                return Err((
                    "estimate",
                    estimate,
                    format!("the confidence interval ({lo}, {hi}) does not contain the estimate"),
                ));
            }
            let asym = ((l + u) / 2.0 - yi).abs() / (u - l);
            if !(asym <= ci.max_asymmetry) {
                let scale = match natural {
                    Transform::Identity => "its own",
                    Transform::Exp => "the log",
                    Transform::Tanh => "the Fisher-z (atanh)",
                    Transform::ILogit => "the logit",
                    Transform::IArcsin => "the arcsine",
                    Transform::IPftHm { .. } => "the transformed",
                };
                return Err((
                    "estimate",
                    estimate,
                    format!(
                        "not halfway between ({lo}, {hi}) on {scale} scale: its distance from \
                         the middle is {asym:.3} of the width, more than {}; is the interval \
                         Wald-type on that scale?",
                        ci.max_asymmetry
                    ),
                ));
            }
            Reported::Ci(super::Ci {
                lower: l,
                upper: u,
                level: ci.level,
                max_asymmetry: f64::INFINITY,
            })
        }
        other => other,
    };
    let vi = wald_variance_checked(yi, on_scale)?;
    Ok((yi, vi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::effect_size::Ci;

    #[test]
    fn paths_and_round_trips() {
        let m = OddsRatioMethod::Normal;
        let d = Effect::<D>::new(0.4, 0.05).unwrap();
        let back = d.to_log_or(m).to_d(m);
        assert!((back.yi() - 0.4).abs() < 1e-15 && (back.vi() - 0.05).abs() < 1e-16);
        let r = Effect::<R>::new(0.3, 0.01).unwrap();
        let rz = r.to_z().to_r();
        assert!((rz.yi() - 0.3).abs() < 1e-15 && (rz.vi() - 0.01).abs() < 1e-15);
        // r -> d -> r with equal groups (a = 4) is the identity
        let rd = r.to_d().to_r(40.0, 40.0).unwrap();
        assert!((rd.yi() - 0.3).abs() < 1e-15 && (rd.vi() - 0.01).abs() < 1e-15);
        for from in [
            EffectScale::D,
            EffectScale::LogOddsRatio,
            EffectScale::LogRiskRatio,
            EffectScale::Correlation,
            EffectScale::FisherZ,
        ] {
            for to in [EffectScale::D, EffectScale::LogOddsRatio] {
                if let Some(p) = from.path_to(to, m) {
                    let mut s = from;
                    for c in &p {
                        assert_eq!(c.from(), s);
                        s = c.to();
                    }
                    assert_eq!(s, to);
                }
            }
        }
        assert!(Effect::<R>::new(1.0, 0.1).is_err());
        assert!(Effect::<D>::new(0.1, 0.0).is_err());
        assert!(matches!(
            Effect::<LogOr>::from_reported(-1.0, Reported::P(0.1)),
            Err(MetaError::InvalidOption { ref option, .. }) if option == "estimate"
        ));
        assert!(matches!(
            Effect::<LogOr>::from_reported(1.0, Reported::Ci(Ci::new(0.0, 2.0))),
            Err(MetaError::InvalidOption { ref option, .. }) if option == "ci_lb"
        ));
        assert_eq!(
            "logOR".parse::<EffectScale>().unwrap(),
            EffectScale::LogOddsRatio
        );
    }
}
