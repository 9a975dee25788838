//! [`Measure`] (every measure, whatever its input), [`To`] and [`VarianceType`].

use std::fmt;
use std::str::FromStr;

use super::scale::EffectScale;
use super::transform::Transform;
use super::{
    CorrelationMeasure, IncidenceMeasure, MeansMeasure, PartialMeasure, PrePostMeasure,
    ProportionMeasure, RateMeasure, StatisticMeasure, TwoByTwoMeasure,
};
use crate::error::MetaError;

/// Any effect-size measure metan computes: the umbrella over the typed measure enums.
///
/// Names are metafor's; parsing is case-insensitive. A [`crate::Studies`] built from
/// raw data remembers its measure, so that fits can be back-transformed
/// ([`Measure::back_transform`]).
///
/// # Examples
/// ```
/// use metan::data::effect_size::{Measure, Transform};
/// let m: Measure = "or".parse()?;
/// assert_eq!(m, Measure::OR);
/// assert_eq!(m.back_transform(), Some(Transform::Exp));
/// assert_eq!(Measure::ZCOR.back_transform(), Some(Transform::Tanh));
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Measure {
    /// Log odds ratio (2x2 table).
    OR,
    /// Log risk ratio (2x2 table).
    RR,
    /// Risk difference (2x2 table).
    RD,
    /// Arcsine square-root transformed risk difference (2x2 table).
    AS,
    /// Peto's log odds ratio (2x2 table).
    PETO,
    /// Raw mean difference (two groups' means).
    MD,
    /// Standardized mean difference, Hedges' g (two groups' means).
    SMD,
    /// Standardized mean difference with heteroscedastic variances (Bonett 2008).
    SMDH,
    /// Log ratio of means (two groups' means).
    ROM,
    /// Raw correlation coefficient.
    COR,
    /// Fisher's r-to-z transformed correlation coefficient.
    ZCOR,
    /// Raw proportion.
    PR,
    /// Logit transformed proportion.
    PLO,
    /// Log transformed proportion.
    PLN,
    /// Arcsine square-root transformed proportion.
    PAS,
    /// Freeman-Tukey double arcsine transformed proportion.
    PFT,
    /// Log incidence rate ratio (two groups' events and person-times).
    IRR,
    /// Raw incidence rate (one group's events and person-time).
    IR,
    /// Probit transformed risk difference, an estimate of d (2x2 table).
    PBIT,
    /// Log odds ratio transformed to d assuming normal distributions, `ln OR / 1.65`
    /// (2x2 table; Cox 1970).
    OR2DN,
    /// Log odds ratio transformed to d assuming logistic distributions,
    /// `ln OR sqrt(3)/pi` (2x2 table; Hasselblad & Hedges 1995).
    OR2DL,
    /// d transformed to a log odds ratio assuming normal distributions, `1.65 d` (two
    /// groups' means, or a reported d, t or p).
    D2ORN,
    /// d transformed to a log odds ratio assuming logistic distributions, `d pi/sqrt(3)`
    /// (two groups' means, or a reported d, t or p).
    D2ORL,
    /// Raw mean change (one group measured twice).
    MC,
    /// Standardized mean change with change score standardization (one group measured
    /// twice).
    SMCC,
    /// Standardized mean change with raw score standardization (one group measured twice).
    SMCR,
    /// Standardized mean change with raw score standardization and heteroscedastic
    /// variances (one group measured twice; Bonett 2008).
    SMCRH,
    /// Log ratio of means of one group measured twice.
    ROMC,
    /// Partial correlation coefficient (from a regression t statistic).
    PCOR,
    /// Fisher's r-to-z transformed partial correlation coefficient.
    ZPCOR,
    /// Semi-partial correlation coefficient (from a regression t statistic and R^2).
    SPCOR,
}

impl Measure {
    /// Every measure, in metafor's documentation order.
    pub const ALL: [Measure; 31] = [
        Measure::OR,
        Measure::RR,
        Measure::RD,
        Measure::AS,
        Measure::PETO,
        Measure::MD,
        Measure::SMD,
        Measure::SMDH,
        Measure::ROM,
        Measure::COR,
        Measure::ZCOR,
        Measure::PR,
        Measure::PLO,
        Measure::PLN,
        Measure::PAS,
        Measure::PFT,
        Measure::IRR,
        Measure::IR,
        Measure::PBIT,
        Measure::OR2DN,
        Measure::OR2DL,
        Measure::D2ORN,
        Measure::D2ORL,
        Measure::MC,
        Measure::SMCC,
        Measure::SMCR,
        Measure::SMCRH,
        Measure::ROMC,
        Measure::PCOR,
        Measure::ZPCOR,
        Measure::SPCOR,
    ];

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::OR => "OR",
            Measure::RR => "RR",
            Measure::RD => "RD",
            Measure::AS => "AS",
            Measure::PETO => "PETO",
            Measure::MD => "MD",
            Measure::SMD => "SMD",
            Measure::SMDH => "SMDH",
            Measure::ROM => "ROM",
            Measure::COR => "COR",
            Measure::ZCOR => "ZCOR",
            Measure::PR => "PR",
            Measure::PLO => "PLO",
            Measure::PLN => "PLN",
            Measure::PAS => "PAS",
            Measure::PFT => "PFT",
            Measure::IRR => "IRR",
            Measure::IR => "IR",
            Measure::PBIT => "PBIT",
            Measure::OR2DN => "OR2DN",
            Measure::OR2DL => "OR2DL",
            Measure::D2ORN => "D2ORN",
            Measure::D2ORL => "D2ORL",
            Measure::MC => "MC",
            Measure::SMCC => "SMCC",
            Measure::SMCR => "SMCR",
            Measure::SMCRH => "SMCRH",
            Measure::ROMC => "ROMC",
            Measure::PCOR => "PCOR",
            Measure::ZPCOR => "ZPCOR",
            Measure::SPCOR => "SPCOR",
        }
    }

    /// metafor's default `add`: 0 for AS, PAS and PFT, 1/2 otherwise.
    pub fn default_add(self) -> f64 {
        match self {
            Measure::AS | Measure::PAS | Measure::PFT => 0.0,
            _ => 0.5,
        }
    }

    /// The variance types (metafor's `vtype`) the measure accepts; the first is the default.
    pub fn variance_types(self) -> &'static [VarianceType] {
        use VarianceType::*;
        match self {
            Measure::RD => &[LS, UB, AV],
            Measure::MD => &[LS, UB, HO],
            Measure::SMD => &[LS, UB, LS2, AV],
            Measure::SMDH => &[LS, LS2],
            Measure::ROM => &[LS, HO, AV, AVHO],
            Measure::COR => &[LS, AV],
            Measure::PR => &[LS, UB, AV],
            Measure::PLO | Measure::PLN => &[LS, AV],
            Measure::SMCC | Measure::SMCR => &[LS, LS2],
            Measure::PCOR | Measure::SPCOR => &[LS, AV],
            _ => &[LS],
        }
    }

    /// The transformation that takes an estimate back to the natural scale, as one would
    /// pass to metafor's `predict(res, transf = ...)`: `exp` for the log ratio measures
    /// (OR, RR, PETO, ROM, IRR, PLN), the inverse logit for PLO, `tanh` (z to r) for ZCOR,
    /// the inverse arcsine for PAS and the identity for the measures already on their
    /// natural scale. `None` for PFT, whose inverse needs the sample sizes: use
    /// [`Transform::ipft_hm`] (or [`super::EffectSizeTable::back_transform`]).
    pub fn back_transform(self) -> Option<Transform> {
        match self {
            Measure::OR
            | Measure::RR
            | Measure::PETO
            | Measure::ROM
            | Measure::IRR
            | Measure::PLN
            | Measure::D2ORN
            | Measure::D2ORL
            | Measure::ROMC => Some(Transform::Exp),
            Measure::PLO => Some(Transform::ILogit),
            Measure::ZCOR | Measure::ZPCOR => Some(Transform::Tanh),
            Measure::PAS => Some(Transform::IArcsin),
            Measure::PFT => None,
            Measure::RD
            | Measure::AS
            | Measure::MD
            | Measure::SMD
            | Measure::SMDH
            | Measure::COR
            | Measure::PR
            | Measure::IR
            | Measure::PBIT
            | Measure::OR2DN
            | Measure::OR2DL
            | Measure::MC
            | Measure::SMCC
            | Measure::SMCR
            | Measure::SMCRH
            | Measure::PCOR
            | Measure::SPCOR => Some(Transform::Identity),
        }
    }

    /// The name of the natural scale, for headers such as `Model Results (OR scale):`.
    pub fn natural_scale(self) -> &'static str {
        match self {
            Measure::OR | Measure::PETO | Measure::D2ORN | Measure::D2ORL => "OR",
            Measure::RR => "RR",
            Measure::ROM => "ROM",
            Measure::ROMC => "ROMC",
            Measure::IRR => "IRR",
            Measure::ZCOR => "r",
            Measure::ZPCOR => "PCOR",
            Measure::PLO | Measure::PLN | Measure::PAS | Measure::PFT => "proportion",
            m => m.name(),
        }
    }

    /// True for measures computed from 2x2 tables.
    pub fn is_two_by_two(self) -> bool {
        self.two_by_two().is_some()
    }

    /// The scale the measure's `yi` is on, for conversions between scales
    /// ([`super::scale`]): d for SMD, SMDH, SMCR, SMCRH, PBIT, OR2DN and OR2DL; the log
    /// odds ratio for OR, PETO, D2ORN and D2ORL; the log risk ratio for RR; r for COR;
    /// Fisher's z for ZCOR. `None` for the other measures, which no conversion applies to
    /// (SMCC among them: standardized by the SD of the change scores, it is not on the
    /// scale of d; Morris & DeShon 2002).
    pub fn scale(self) -> Option<EffectScale> {
        match self {
            Measure::SMD
            | Measure::SMDH
            | Measure::SMCR
            | Measure::SMCRH
            | Measure::PBIT
            | Measure::OR2DN
            | Measure::OR2DL => Some(EffectScale::D),
            Measure::OR | Measure::PETO | Measure::D2ORN | Measure::D2ORL => {
                Some(EffectScale::LogOddsRatio)
            }
            Measure::RR => Some(EffectScale::LogRiskRatio),
            Measure::COR => Some(EffectScale::Correlation),
            Measure::ZCOR => Some(EffectScale::FisherZ),
            Measure::RD
            | Measure::AS
            | Measure::MD
            | Measure::ROM
            | Measure::PR
            | Measure::PLO
            | Measure::PLN
            | Measure::PAS
            | Measure::PFT
            | Measure::IRR
            | Measure::IR
            | Measure::MC
            | Measure::SMCC
            | Measure::ROMC
            | Measure::PCOR
            | Measure::ZPCOR
            | Measure::SPCOR => None,
        }
    }

    /// The typed 2x2 measure, if it is one.
    pub fn two_by_two(self) -> Option<TwoByTwoMeasure> {
        Some(match self {
            Measure::OR => TwoByTwoMeasure::OR,
            Measure::RR => TwoByTwoMeasure::RR,
            Measure::RD => TwoByTwoMeasure::RD,
            Measure::AS => TwoByTwoMeasure::AS,
            Measure::PETO => TwoByTwoMeasure::PETO,
            Measure::PBIT => TwoByTwoMeasure::PBIT,
            Measure::OR2DN => TwoByTwoMeasure::OR2DN,
            Measure::OR2DL => TwoByTwoMeasure::OR2DL,
            _ => return None,
        })
    }

    /// The typed means measure, if it is one.
    pub fn means(self) -> Option<MeansMeasure> {
        Some(match self {
            Measure::MD => MeansMeasure::MD,
            Measure::SMD => MeansMeasure::SMD,
            Measure::SMDH => MeansMeasure::SMDH,
            Measure::ROM => MeansMeasure::ROM,
            Measure::D2ORN => MeansMeasure::D2ORN,
            Measure::D2ORL => MeansMeasure::D2ORL,
            _ => return None,
        })
    }

    /// The typed measure computed from a reported d, t or p, if it is one.
    pub fn statistic(self) -> Option<StatisticMeasure> {
        Some(match self {
            Measure::SMD => StatisticMeasure::SMD,
            Measure::D2ORN => StatisticMeasure::D2ORN,
            Measure::D2ORL => StatisticMeasure::D2ORL,
            _ => return None,
        })
    }

    /// The typed pre-post (one group measured twice) measure, if it is one.
    pub fn pre_post(self) -> Option<PrePostMeasure> {
        Some(match self {
            Measure::MC => PrePostMeasure::MC,
            Measure::SMCC => PrePostMeasure::SMCC,
            Measure::SMCR => PrePostMeasure::SMCR,
            Measure::SMCRH => PrePostMeasure::SMCRH,
            Measure::ROMC => PrePostMeasure::ROMC,
            _ => return None,
        })
    }

    /// The typed partial-correlation measure, if it is one.
    pub fn partial(self) -> Option<PartialMeasure> {
        Some(match self {
            Measure::PCOR => PartialMeasure::PCOR,
            Measure::ZPCOR => PartialMeasure::ZPCOR,
            Measure::SPCOR => PartialMeasure::SPCOR,
            _ => return None,
        })
    }

    /// The typed correlation measure, if it is one.
    pub fn correlation(self) -> Option<CorrelationMeasure> {
        Some(match self {
            Measure::COR => CorrelationMeasure::COR,
            Measure::ZCOR => CorrelationMeasure::ZCOR,
            _ => return None,
        })
    }

    /// The typed proportion measure, if it is one.
    pub fn proportion(self) -> Option<ProportionMeasure> {
        Some(match self {
            Measure::PR => ProportionMeasure::PR,
            Measure::PLO => ProportionMeasure::PLO,
            Measure::PLN => ProportionMeasure::PLN,
            Measure::PAS => ProportionMeasure::PAS,
            Measure::PFT => ProportionMeasure::PFT,
            _ => return None,
        })
    }

    /// The typed two-group incidence measure, if it is one.
    pub fn incidence(self) -> Option<IncidenceMeasure> {
        (self == Measure::IRR).then_some(IncidenceMeasure::IRR)
    }

    /// The typed one-group rate measure, if it is one.
    pub fn rate(self) -> Option<RateMeasure> {
        (self == Measure::IR).then_some(RateMeasure::IR)
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Measure {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self, MetaError> {
        Measure::ALL
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "measure".into(),
                name: s.to_string(),
                expected: Measure::ALL
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// To which studies the continuity correction `add` is applied (metafor's `to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum To {
    /// Every study.
    All,
    /// Only the studies with a zero cell (the default).
    #[default]
    Only0,
    /// Every study, if at least one study has a zero cell.
    If0All,
    /// No study.
    None,
}

impl To {
    /// metafor's name: `all`, `only0`, `if0all` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            To::All => "all",
            To::Only0 => "only0",
            To::If0All => "if0all",
            To::None => "none",
        }
    }
}

impl fmt::Display for To {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for To {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self, MetaError> {
        [To::All, To::Only0, To::If0All, To::None]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "`to` value".into(),
                name: s.to_string(),
                expected: "all, only0, if0all, none".into(),
            })
    }
}

/// How the sampling variance is estimated (metafor's `vtype`).
///
/// Which types a measure accepts: [`Measure::variance_types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum VarianceType {
    /// Large-sample approximation (the default).
    #[default]
    LS,
    /// An alternative large-sample approximation (SMD: `c^2 (1/n1 + 1/n2 + d^2/(2n))`;
    /// SMDH: Bonett's form without the bias correction).
    LS2,
    /// Unbiased estimate (RD, PR: `n - 1` denominators; SMD: Hedges' exact unbiased
    /// variance; MD: as LS).
    UB,
    /// Homoscedastic: the pooled SD in both groups (MD, ROM).
    HO,
    /// With the sample-size weighted average of the outcomes (or of the proportions /
    /// coefficients of variation) in place of each study's own value.
    AV,
    /// ROM: `AV` with one pooled coefficient of variation for both groups.
    AVHO,
}

impl VarianceType {
    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            VarianceType::LS => "LS",
            VarianceType::LS2 => "LS2",
            VarianceType::UB => "UB",
            VarianceType::HO => "HO",
            VarianceType::AV => "AV",
            VarianceType::AVHO => "AVHO",
        }
    }
}

impl fmt::Display for VarianceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for VarianceType {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self, MetaError> {
        use VarianceType::*;
        [LS, LS2, UB, HO, AV, AVHO]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "variance type".into(),
                name: s.to_string(),
                expected: "LS, LS2, UB, HO, AV, AVHO".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Measure::ALL {
            assert_eq!(m.name().parse::<Measure>().unwrap(), m);
            assert_eq!(m.variance_types()[0], VarianceType::LS);
        }
        assert!(matches!(
            "XYZ".parse::<Measure>(),
            Err(MetaError::UnknownName { .. })
        ));
        assert_eq!("if0all".parse::<To>().unwrap(), To::If0All);
        assert_eq!("avho".parse::<VarianceType>().unwrap(), VarianceType::AVHO);
    }
}
