//! PET-PEESE (Stanley & Doucouliagos 2014): the precision-effect test and the
//! precision-effect estimate with standard errors, and the conditional estimator.

use std::fmt;

use super::lm::WeightedLm;
use super::too_few;
use crate::data::Studies;
use crate::error::{MetaError, Result};

/// Which regression the conditional PET-PEESE estimator reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum PetPeeseChoice {
    /// The PET intercept (no genuine effect detected).
    Pet,
    /// The PEESE intercept (PET detected a genuine effect).
    Peese,
}

impl fmt::Display for PetPeeseChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PetPeeseChoice::Pet => "PET",
            PetPeeseChoice::Peese => "PEESE",
        })
    }
}

/// Specification of PET-PEESE.
///
/// # Examples
///
/// ```
/// use metan::Studies;
/// use metan::bias::{PetPeese, PetPeeseChoice};
/// let s = Studies::from_variances(
///     vec![0.9, 0.5, 0.62, 0.2, 0.35, 0.1, 0.15],
///     vec![0.20, 0.11, 0.15, 0.02, 0.05, 0.01, 0.012],
/// )?;
/// let pp = PetPeese::new().run(&s)?;
/// let expected = if pp.pet().intercept().p_value < 0.10 {
///     PetPeeseChoice::Peese
/// } else {
///     PetPeeseChoice::Pet
/// };
/// assert_eq!(pp.chosen(), expected);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PetPeese {
    alpha: f64,
    level: f64,
}

impl Default for PetPeese {
    fn default() -> Self {
        Self::new()
    }
}

impl PetPeese {
    /// `alpha = 0.10` (two-sided) for the PET test of the intercept, 95% intervals.
    pub fn new() -> Self {
        PetPeese {
            alpha: 0.10,
            level: 95.0,
        }
    }

    /// Two-sided significance level of PET's test of `H0: b0 = 0` that selects PEESE
    /// (default 0.10, i.e. one-sided 5% in the direction of the estimate).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Confidence level of the intervals, in percent (default 95; a value below 1 is a
    /// proportion, as [`crate::MetaAnalysis::level`]).
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Fits PET and PEESE and picks the conditional estimate.
    ///
    /// # Formula
    /// PET: `y_i = b0 + b1 se_i`; PEESE: `y_i = b0 + b1 v_i`; both by weighted least
    /// squares with weights `1/v_i` and a multiplicative dispersion (R's
    /// `lm(yi ~ sei, weights = 1/vi)`; t tests on `k - 2` df). The conditional estimator is
    /// PEESE's intercept when PET rejects `H0: b0 = 0` at two-sided level `alpha` (p <
    /// `alpha`), and PET's intercept otherwise. With the default `alpha = 0.10` this is
    /// Stanley & Doucouliagos' one-sided 5% test in the direction of the estimate.
    ///
    /// # Errors
    /// [`MetaError::TooFewStudies`] for `k < 3`; [`MetaError::InvalidOption`] for `alpha` or
    /// `level` out of range; [`MetaError::RankDeficient`] when all variances are equal;
    /// [`MetaError::Numerical`] for a perfect fit.
    ///
    /// # References
    /// Stanley, T. D., & Doucouliagos, H. (2014). Meta-regression approximations to reduce
    /// publication selection bias. *Research Synthesis Methods*, 5, 60-78.
    /// Stanley, T. D. (2017). Limitations of PET-PEESE and other meta-analysis methods.
    /// *Social Psychological and Personality Science*, 8, 581-591.
    pub fn run(&self, studies: &Studies) -> Result<PetPeeseFit> {
        studies.check_range()?;
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(MetaError::invalid_option(
                "alpha",
                self.alpha,
                "must be in (0, 1)",
            ));
        }
        let l = if self.level > 0.0 && self.level < 1.0 {
            100.0 * self.level
        } else {
            self.level
        };
        let ci_alpha = 1.0 - l / 100.0;
        if !(ci_alpha > 0.0 && ci_alpha < 1.0) {
            return Err(MetaError::invalid_option(
                "level",
                self.level,
                "must be in (0, 100) percent",
            ));
        }
        let k = studies.k();
        if k < 3 {
            return Err(too_few("PET-PEESE", 3, k));
        }
        let v = studies.vi();
        let y = studies.yi();
        if v.iter().all(|a| *a == v[0]) {
            return Err(MetaError::RankDeficient {
                columns: vec!["sei".into()],
            });
        }
        let w: Vec<f64> = v.iter().map(|a| 1.0 / a).collect();
        let sei: Vec<f64> = v.iter().map(|a| a.sqrt()).collect();
        let pet = WeightedLm::fit(&sei, y, &w, ci_alpha, ["intrcpt", "sei"])?;
        let peese = WeightedLm::fit(v, y, &w, ci_alpha, ["intrcpt", "vi"])?;
        let chosen = if pet.intercept().p_value < self.alpha {
            PetPeeseChoice::Peese
        } else {
            PetPeeseChoice::Pet
        };
        Ok(PetPeeseFit {
            pet,
            peese,
            chosen,
            alpha: self.alpha,
        })
    }
}

/// The result of [`PetPeese::run`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PetPeeseFit {
    pet: WeightedLm,
    peese: WeightedLm,
    chosen: PetPeeseChoice,
    alpha: f64,
}

impl PetPeeseFit {
    /// PET: the regression on the standard errors.
    pub fn pet(&self) -> &WeightedLm {
        &self.pet
    }
    /// PEESE: the regression on the sampling variances.
    pub fn peese(&self) -> &WeightedLm {
        &self.peese
    }
    /// Which regression the conditional estimator uses.
    pub fn chosen(&self) -> PetPeeseChoice {
        self.chosen
    }
    /// The regression the conditional estimator uses.
    pub fn chosen_fit(&self) -> &WeightedLm {
        match self.chosen {
            PetPeeseChoice::Pet => &self.pet,
            PetPeeseChoice::Peese => &self.peese,
        }
    }
    /// The conditional PET-PEESE estimate (the chosen intercept).
    pub fn estimate(&self) -> f64 {
        self.chosen_fit().intercept().estimate
    }
    /// Its confidence interval.
    pub fn ci(&self) -> (f64, f64) {
        let b = self.chosen_fit().intercept();
        (b.ci_lower, b.ci_upper)
    }
    /// The significance level of PET's test that selects PEESE.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

impl fmt::Display for PetPeeseFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::format::{fcf, format_df, pval_str};
        writeln!(f)?;
        writeln!(
            f,
            "PET-PEESE (weighted regression with multiplicative dispersion)"
        )?;
        writeln!(f)?;
        let w = |f: &mut fmt::Formatter<'_>, name: &str, lm: &WeightedLm| -> fmt::Result {
            for c in lm.coefficients() {
                writeln!(
                    f,
                    "{name:<6}{:<8} b = {}, SE = {}, t = {}, df = {}, p {}, CI: [{}, {}]",
                    c.name,
                    fcf(c.estimate, 4),
                    fcf(c.se, 4),
                    fcf(c.statistic, 4),
                    format_df(lm.df()),
                    pval_str(c.p_value, 4, true, " "),
                    fcf(c.ci_lower, 4),
                    fcf(c.ci_upper, 4)
                )?;
            }
            Ok(())
        };
        w(f, "PET", &self.pet)?;
        w(f, "PEESE", &self.peese)?;
        writeln!(f)?;
        let (lo, hi) = self.ci();
        writeln!(
            f,
            "Conditional estimate ({}; PET intercept p {} alpha = {}): {} (CI: {}, {})",
            self.chosen,
            if self.chosen == PetPeeseChoice::Peese {
                "<"
            } else {
                ">="
            },
            self.alpha,
            fcf(self.estimate(), 4),
            fcf(lo, 4),
            fcf(hi, 4)
        )?;
        writeln!(f)
    }
}
