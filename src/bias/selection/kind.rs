//! The selection functions and the direction of selection: [`SelectionType`] and
//! [`Alternative`].

use std::fmt;
use std::str::FromStr;

use crate::error::MetaError;

/// The form of the selection function `w(p)`: the relative likelihood that a study with
/// one-sided (or two-sided) p-value `p` is observed. Names follow metafor's
/// `selmodel(type = ...)`; parsing is case-insensitive.
///
/// `s` below is the single step of a continuous type (metafor's `steps`, default 0):
/// `w(p) = 1` for `p <= s`, otherwise the ratio shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SelectionType {
    /// Step function (Hedges 1992; Vevea & Hedges 1995): `w(p) = delta_j` for
    /// `a_(j-1) < p <= a_j`, with `delta_1 = 1` fixed. With one step at 0.025 this is the
    /// three-parameter selection model (3PSM).
    #[cfg_attr(feature = "serde", serde(rename = "stepfun"))]
    StepFunction,
    /// Beta (Citkowicz & Vevea 2017): `w(p) = p^(delta_1 - 1) (1 - p)^(delta_2 - 1)`.
    #[cfg_attr(feature = "serde", serde(rename = "beta"))]
    Beta,
    /// Half-normal (Preston, Ashby & Smyth 2004): `exp(-delta p^2) / exp(-delta s^2)`.
    #[cfg_attr(feature = "serde", serde(rename = "halfnorm"))]
    HalfNormal,
    /// Negative exponential (Preston et al. 2004): `exp(-delta p) / exp(-delta s)`.
    #[cfg_attr(feature = "serde", serde(rename = "negexp"))]
    NegativeExponential,
    /// Logistic (Preston et al. 2004):
    /// `[2 exp(-delta p) / (1 + exp(-delta p))] / [2 exp(-delta s) / (1 + exp(-delta s))]`.
    #[cfg_attr(feature = "serde", serde(rename = "logistic"))]
    Logistic,
    /// Power (Preston et al. 2004): `(1 - p)^delta / (1 - s)^delta`.
    #[cfg_attr(feature = "serde", serde(rename = "power"))]
    Power,
}

impl SelectionType {
    /// Every type, in metafor's order.
    pub const ALL: [SelectionType; 6] = [
        SelectionType::StepFunction,
        SelectionType::Beta,
        SelectionType::HalfNormal,
        SelectionType::NegativeExponential,
        SelectionType::Logistic,
        SelectionType::Power,
    ];

    /// metafor's name (`"stepfun"`, `"beta"`, `"halfnorm"`, `"negexp"`, `"logistic"`,
    /// `"power"`).
    pub fn name(self) -> &'static str {
        match self {
            SelectionType::StepFunction => "stepfun",
            SelectionType::Beta => "beta",
            SelectionType::HalfNormal => "halfnorm",
            SelectionType::NegativeExponential => "negexp",
            SelectionType::Logistic => "logistic",
            SelectionType::Power => "power",
        }
    }

    /// True for the types whose likelihood needs numerical integration (all but the step
    /// function).
    pub fn is_continuous(self) -> bool {
        !matches!(self, SelectionType::StepFunction)
    }

    /// The value of each delta under "no selection" (metafor's `H0.delta`), which the
    /// printed z tests of the deltas test against: 1 for the step function and the beta
    /// type, 0 for the others.
    pub fn null_delta(self) -> f64 {
        match self {
            SelectionType::StepFunction | SelectionType::Beta => 1.0,
            SelectionType::HalfNormal
            | SelectionType::NegativeExponential
            | SelectionType::Logistic
            | SelectionType::Power => 0.0,
        }
    }
}

impl fmt::Display for SelectionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SelectionType {
    type Err = MetaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SelectionType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "selection type".into(),
                name: s.to_string(),
                expected: SelectionType::ALL.map(SelectionType::name).join(", "),
            })
    }
}

/// The direction in which the p-values driving selection are computed from
/// `z_i = y_i / sqrt(v_i)` (metafor's `alternative`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Alternative {
    /// `p_i = 1 - Phi(z_i)`: significant positive effects are favoured (the default).
    #[default]
    #[cfg_attr(feature = "serde", serde(rename = "greater"))]
    Greater,
    /// `p_i = Phi(z_i)`: significant negative effects are favoured.
    #[cfg_attr(feature = "serde", serde(rename = "less"))]
    Less,
    /// `p_i = 2 (1 - Phi(|z_i|))`: significance in either direction.
    #[cfg_attr(feature = "serde", serde(rename = "two.sided"))]
    TwoSided,
}

impl Alternative {
    /// metafor's name (`"greater"`, `"less"`, `"two.sided"`).
    pub fn name(self) -> &'static str {
        match self {
            Alternative::Greater => "greater",
            Alternative::Less => "less",
            Alternative::TwoSided => "two.sided",
        }
    }

    /// The other one-sided direction (two-sided stays two-sided): the alternative under
    /// which the mirrored data (`-y_i`) give the mirrored fit.
    pub fn flipped(self) -> Alternative {
        match self {
            Alternative::Greater => Alternative::Less,
            Alternative::Less => Alternative::Greater,
            Alternative::TwoSided => Alternative::TwoSided,
        }
    }
}

impl fmt::Display for Alternative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Alternative {
    type Err = MetaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            Alternative::Greater,
            Alternative::Less,
            Alternative::TwoSided,
        ];
        all.into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "alternative".into(),
                name: s.to_string(),
                expected: "greater, less, two.sided".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in SelectionType::ALL {
            assert_eq!(t.name().parse::<SelectionType>().unwrap(), t);
        }
        assert_eq!(
            "Two.Sided".parse::<Alternative>().unwrap(),
            Alternative::TwoSided
        );
        assert!("stepfunction".parse::<SelectionType>().is_err());
        assert!("both".parse::<Alternative>().is_err());
    }
}
