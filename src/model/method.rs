//! Model types and tests: [`Method`] and [`TestKind`].

use std::fmt;
use std::str::FromStr;

use crate::error::MetaError;

/// How the model is fitted: the equal-effects model, or a random-effects model with one
/// of metafor's tau^2 estimators.
///
/// Names follow metafor's `rma.uni(method = ...)`; parsing is case-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Method {
    /// Equal-effects model (tau^2 = 0).
    EE,
    /// Fixed-effects model: the same computation as [`Method::EE`], printed as metafor does.
    FE,
    /// Common-effect model: the same computation as [`Method::EE`], printed as metafor does.
    CE,
    /// DerSimonian-Laird (1986) moment estimator.
    DL,
    /// Hedges (1983) / Hedges-Olkin estimator (unweighted moments).
    HE,
    /// Hunter-Schmidt (2004) estimator.
    HS,
    /// Hunter-Schmidt estimator with the small-sample correction `k/(k-p)`.
    HSk,
    /// Sidik-Jonkman (2005) two-step estimator.
    SJ,
    /// Maximum likelihood.
    ML,
    /// Restricted maximum likelihood (the default).
    REML,
    /// Empirical Bayes (Morris 1983), equal to Paule-Mandel at the solution.
    EB,
    /// Paule-Mandel (1982) generalized-Q estimator.
    PM,
    /// Median-unbiased Paule-Mandel (Viechtbauer 2021).
    PMM,
    /// Generalized Q-statistic estimator with user weights (DerSimonian & Kacker 2007).
    GENQ,
}

impl Method {
    /// All methods, in metafor's documentation order.
    pub const ALL: [Method; 14] = [
        Method::EE,
        Method::FE,
        Method::CE,
        Method::DL,
        Method::HE,
        Method::HS,
        Method::HSk,
        Method::SJ,
        Method::ML,
        Method::REML,
        Method::EB,
        Method::PM,
        Method::PMM,
        Method::GENQ,
    ];

    /// True for the equal-effects model (EE, FE, CE).
    pub fn is_equal_effects(self) -> bool {
        match self {
            Method::EE | Method::FE | Method::CE => true,
            Method::DL
            | Method::HE
            | Method::HS
            | Method::HSk
            | Method::SJ
            | Method::ML
            | Method::REML
            | Method::EB
            | Method::PM
            | Method::PMM
            | Method::GENQ => false,
        }
    }

    /// True for estimators computed by iteration (ML, REML, EB) or root finding (PM, PMM).
    pub fn is_iterative(self) -> bool {
        match self {
            Method::ML | Method::REML | Method::EB | Method::PM | Method::PMM => true,
            Method::EE
            | Method::FE
            | Method::CE
            | Method::DL
            | Method::HE
            | Method::HS
            | Method::HSk
            | Method::SJ
            | Method::GENQ => false,
        }
    }

    /// The title metafor prints for an equal-effects model without moderators
    /// ("Equal-Effects Model", "Fixed-Effects Model", "Common-Effects Model"); `None` for the
    /// random-effects models.
    pub fn equal_effects_title(self) -> Option<&'static str> {
        match self {
            Method::EE => Some("Equal-Effects Model"),
            Method::FE => Some("Fixed-Effects Model"),
            Method::CE => Some("Common-Effects Model"),
            Method::DL
            | Method::HE
            | Method::HS
            | Method::HSk
            | Method::SJ
            | Method::ML
            | Method::REML
            | Method::EB
            | Method::PM
            | Method::PMM
            | Method::GENQ => None,
        }
    }

    /// The label of the summary row of metafor's forest plot: "EE Model", "FE Model",
    /// "CE Model" or "RE Model".
    pub fn summary_label(self) -> &'static str {
        match self {
            Method::EE => "EE Model",
            Method::FE => "FE Model",
            Method::CE => "CE Model",
            Method::DL
            | Method::HE
            | Method::HS
            | Method::HSk
            | Method::SJ
            | Method::ML
            | Method::REML
            | Method::EB
            | Method::PM
            | Method::PMM
            | Method::GENQ => "RE Model",
        }
    }

    /// The position of the method in [`Method::ALL`] (a test checks that `ALL` lists every
    /// method, in this order).
    const fn position(self) -> usize {
        match self {
            Method::EE => 0,
            Method::FE => 1,
            Method::CE => 2,
            Method::DL => 3,
            Method::HE => 4,
            Method::HS => 5,
            Method::HSk => 6,
            Method::SJ => 7,
            Method::ML => 8,
            Method::REML => 9,
            Method::EB => 10,
            Method::PM => 11,
            Method::PMM => 12,
            Method::GENQ => 13,
        }
    }

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Method::EE => "EE",
            Method::FE => "FE",
            Method::CE => "CE",
            Method::DL => "DL",
            Method::HE => "HE",
            Method::HS => "HS",
            Method::HSk => "HSk",
            Method::SJ => "SJ",
            Method::ML => "ML",
            Method::REML => "REML",
            Method::EB => "EB",
            Method::PM => "PM",
            Method::PMM => "PMM",
            Method::GENQ => "GENQ",
        }
    }
}

// `ALL[i]` is the method at position `i` (checked when compiling).
const _: () = {
    let mut i = 0;
    while i < Method::ALL.len() {
        assert!(Method::ALL[i].position() == i);
        i += 1;
    }
};

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = MetaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "method".into(),
                name: s.to_string(),
                expected: Method::ALL.map(Method::name).join(", "),
            })
    }
}

/// How the fixed effects are tested and their confidence intervals built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum TestKind {
    /// Standard normal (Wald) tests (the default).
    #[default]
    Z,
    /// t tests with `k - p` degrees of freedom.
    T,
    /// Knapp-Hartung (2003) / Hartung-Knapp-Sidik-Jonkman adjustment with t(k - p).
    Knha,
    /// The ad hoc Knapp-Hartung variant whose scale factor is at least 1, so its interval is
    /// never narrower than the unadjusted t interval.
    Adhoc,
}

impl TestKind {
    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            TestKind::Z => "z",
            TestKind::T => "t",
            TestKind::Knha => "knha",
            TestKind::Adhoc => "adhoc",
        }
    }

    /// True when the test uses the t distribution.
    pub fn uses_t(self) -> bool {
        !matches!(self, TestKind::Z)
    }
}

impl fmt::Display for TestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TestKind {
    type Err = MetaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [TestKind::Z, TestKind::T, TestKind::Knha, TestKind::Adhoc]
            .into_iter()
            .find(|t| {
                t.name().eq_ignore_ascii_case(s.trim())
                    || (t == &TestKind::Knha && s.eq_ignore_ascii_case("hksj"))
            })
            .ok_or_else(|| MetaError::UnknownName {
                kind: "test".into(),
                name: s.to_string(),
                expected: "z, t, knha, adhoc".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// `ALL` lists every method once, in the order of `position` (whose match is
    /// exhaustive: a new method cannot compile without a position; with one, `ALL` must
    /// list it for the names to round-trip here).
    #[test]
    fn all_lists_every_method() {
        for (i, m) in Method::ALL.iter().enumerate() {
            assert_eq!(m.position(), i, "{m}");
            assert_eq!(m.name().parse::<Method>().unwrap(), *m);
        }
    }

    #[test]
    fn parses_case_insensitively() {
        assert_eq!("reml".parse::<Method>().unwrap(), Method::REML);
        assert_eq!("hsk".parse::<Method>().unwrap(), Method::HSk);
        assert_eq!("Fe".parse::<Method>().unwrap(), Method::FE);
        assert!(Method::CE.is_equal_effects());
        assert!(matches!(
            "XX".parse::<Method>(),
            Err(MetaError::UnknownName { .. })
        ));
        assert_eq!("KNHA".parse::<TestKind>().unwrap(), TestKind::Knha);
    }
}
