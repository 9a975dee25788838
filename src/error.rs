//! The one error type of the crate.
//!
//! Every fallible function in metan returns [`MetaError`]. Variants that come from
//! bad study data name the study (zero-based index and label), the field and the value,
//! so that a researcher can find the offending row at once.
//!
//! # Error catalogue
//!
//! | variant | caused by | remedy |
//! |---|---|---|
//! | [`MetaError::Empty`] | a data set with no studies | supply at least one study |
//! | [`MetaError::LengthMismatch`] | columns of different lengths | give every column one value per study |
//! | [`MetaError::InvalidValue`] | NaN/infinite estimate, variance or SE `<= 0`, bad count, ...; a study outside the numerical range (below) | fix the named field of the named study; out of range: rescale as the message says (every yi divided by c, every vi by c^2), or correct the data |
//! | [`MetaError::InvalidOption`] | an option out of range (level outside (0, 100), negative fixed tau^2, ...) | pass a valid value |
//! | [`MetaError::TooFewStudies`] | an analysis that needs more studies than given (e.g. Knapp-Hartung with k = p) | add studies or choose another analysis |
//! | [`MetaError::UnknownName`] | an unknown method, test, measure or column name | use one of the names listed in the message |
//! | [`MetaError::Csv`] | a CSV file that cannot be read or parsed | fix the named file, row and column |
//! | [`MetaError::RankDeficient`] | collinear moderators | drop one of the named columns |
//! | [`MetaError::TooFewClusters`] | cluster-robust inference with fewer clusters than coefficients + 1 | add clusters or drop moderators |
//! | [`MetaError::InvalidCluster`] | a cluster whose covariance block is not positive definite, or that makes a model degenerate | fix the named cluster's variances / correlation |
//! | [`MetaError::NotConverged`] | every estimator of a fallback chain failed to converge | raise `max_iter`, or add a closed-form estimator (e.g. DL) to the chain |
//! | [`MetaError::MixedComparisons`] | a sensitivity scenario whose studies compare different things (programme vs no programme, couples vs standard programme, completers vs drop-outs, ...) | select one comparison, or allow mixing explicitly |
//! | [`MetaError::Cancelled`] | a permutation test or GOSH run cancelled (Ctrl-C in `metan`) before its first chunk of work was complete | run it again; cancelled later, the part done is returned, marked partial |
//! | [`MetaError::Numerical`] | a computation that overflowed on finite input that passed the range check | report it as a bug; meanwhile rescale the effects and variances |
//!
//! # Numerical range
//!
//! Every fit (and every analysis built on one: regression, subgroups, sensitivity, bias)
//! checks its studies with [`Studies::check_range`](crate::Studies::check_range) before any
//! arithmetic. A study is in range when
//!
//! | bound | constant | what would overflow or underflow beyond it |
//! |---|---|---|
//! | `\|yi\| <= 1e75` | [`MAX_ABS_EFFECT`](crate::data::MAX_ABS_EFFECT) | tau^2 (of the order of the squared spread of the effects) and the squared weights `1/(vi + tau^2)^2` |
//! | `vi >= 1e-150` | [`MIN_VARIANCE`](crate::data::MIN_VARIANCE) | the squared weights `1/vi^2` |
//! | `vi <= 1e150` | [`MAX_VARIANCE`](crate::data::MAX_VARIANCE) | `vi^2`, and `1/vi^2` underflows |
//! | `\|yi\| / vi <= 1e150` | [`MAX_WEIGHTED_EFFECT`](crate::data::MAX_WEIGHTED_EFFECT) | the weighted squares `w yi^2` and `w^2 yi^2` |
//!
//! Out of range is a [`MetaError::InvalidValue`] naming the study, the field and the bound,
//! with the remedy: the power of ten `c` that brings every study into range as
//! `(yi / c, vi / c^2)` (test statistics, p-values and I^2 do not change; estimates scale
//! by `c`, tau^2 by `c^2`), or, when none does (an effect more than about 1e150 standard
//! errors from zero), a request to check the study's values. [`Studies`](crate::Studies)
//! itself holds any finite values.

use std::fmt;

/// Identifies a study in an error message: its zero-based index and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyRef {
    /// Zero-based position of the study in the data set.
    pub index: usize,
    /// The study's label (`"Study i+1"` when none was given).
    pub label: String,
}

impl fmt::Display for StudyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "study {} ({})", self.index + 1, self.label)
    }
}

/// Every error metan can return.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// A data set has no studies.
    #[error("no studies: the data set is empty")]
    Empty,

    /// Two columns that must have one value per study differ in length.
    #[error("length mismatch: `{field}` has {found} values, expected {expected} (one per study)")]
    LengthMismatch {
        /// The column whose length is wrong.
        field: String,
        /// The number of studies.
        expected: usize,
        /// The length given.
        found: usize,
    },

    /// A study-level value is invalid.
    #[error("{study}: invalid `{field}` = {value}: {reason}")]
    InvalidValue {
        /// The study.
        study: StudyRef,
        /// The field (column) name.
        field: String,
        /// The offending value, as text (it may be NaN or infinite).
        value: String,
        /// Why it is invalid.
        reason: String,
    },

    /// An analysis option is out of range.
    #[error("invalid option `{option}` = {value}: {reason}")]
    InvalidOption {
        /// The option name.
        option: String,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },

    /// An analysis needs more studies than were given.
    #[error("{analysis} needs at least {needed} studies, got {found}")]
    TooFewStudies {
        /// The analysis that was asked for.
        analysis: String,
        /// The minimum number of studies.
        needed: usize,
        /// The number given.
        found: usize,
    },

    /// An unknown name (method, test, measure, column, ...).
    #[error("unknown {kind} `{name}`; expected one of: {expected}")]
    UnknownName {
        /// What kind of name it is ("method", "test", "column", ...).
        kind: String,
        /// The name given.
        name: String,
        /// The accepted names.
        expected: String,
    },

    /// A CSV file could not be read or parsed.
    #[error("{path}: {}{}{message}", row.map(|r| format!("row {r}: ")).unwrap_or_default(), column.as_ref().map(|c| format!("column `{c}`: ")).unwrap_or_default())]
    Csv {
        /// The file (or `<input>` for in-memory data).
        path: String,
        /// The 1-based line number in the file, counting the header as line 1.
        row: Option<usize>,
        /// The column, when one is concerned.
        column: Option<String>,
        /// What went wrong.
        message: String,
    },

    /// The moderator matrix is rank deficient.
    #[error(
        "the model matrix is rank deficient: {} collinear with the others",
        match columns.as_slice() {
            [one] => format!("column `{one}` is"),
            more => format!("columns {} are", more.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")),
        }
    )]
    RankDeficient {
        /// Names of the redundant columns.
        columns: Vec<String>,
    },

    /// No estimator of the fallback chain converged.
    #[error("{method} did not converge after {iterations} iterations ({reason})")]
    NotConverged {
        /// The last estimator tried.
        method: String,
        /// Iterations used.
        iterations: usize,
        /// Why it stopped.
        reason: String,
    },

    /// A sensitivity scenario would pool effects of different comparisons in one estimate
    /// (e.g. programme vs no programme with couples therapy vs a standard programme).
    #[error(
        "scenario `{scenario}` pools different comparisons ({}): select one comparison, or allow mixing explicitly (mix_comparisons = true)",
        comparisons.join(", ")
    )]
    MixedComparisons {
        /// The scenario's name.
        scenario: String,
        /// The comparisons it would pool (`not recorded` for studies without one).
        comparisons: Vec<String>,
    },

    /// An analysis needs more clusters than were given (cluster-robust inference needs at
    /// least one more cluster than coefficients).
    #[error("{analysis} needs at least {needed} clusters, got {found}")]
    TooFewClusters {
        /// The analysis that was asked for.
        analysis: String,
        /// The minimum number of clusters.
        needed: usize,
        /// The number given.
        found: usize,
    },

    /// A cluster's data make the analysis impossible (e.g. a covariance block that is not
    /// positive definite).
    #[error("cluster `{cluster}`: {reason}")]
    InvalidCluster {
        /// The cluster's name.
        cluster: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A long computation (permutation test, GOSH) was cancelled through its
    /// [`Monitor`](crate::progress::Monitor) before any of its work was complete. (Cancelled
    /// later, it returns the part done, marked [`Completion::Stopped`](crate::progress::Completion).)
    #[error("{analysis} was cancelled before any {unit} was complete: nothing to report")]
    Cancelled {
        /// The computation.
        analysis: String,
        /// Its unit of work ("permutation", "subset").
        unit: String,
    },

    /// A computation produced a non-finite value.
    #[error("numerical failure in {context}")]
    Numerical {
        /// Where it happened.
        context: String,
    },
}

impl MetaError {
    pub(crate) fn invalid_value(
        index: usize,
        label: &str,
        field: &str,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        MetaError::InvalidValue {
            study: StudyRef {
                index,
                label: label.to_string(),
            },
            field: field.to_string(),
            value: echo(value),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_option(
        option: &str,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        MetaError::InvalidOption {
            option: option.to_string(),
            value: echo(value),
            reason: reason.into(),
        }
    }
}

/// A value as an error message echoes it. A float's `Display` writes every digit (`1e308`
/// as 309 of them): a number longer than 24 characters is written in exponent form
/// instead, the same value (`Display` round-trips).
fn echo(value: impl fmt::Display) -> String {
    let text = value.to_string();
    match text.parse::<f64>() {
        Ok(x) if text.len() > 24 => format!("{x:e}"),
        _ => text,
    }
}

/// Shorthand for `Result<T, MetaError>`.
pub type Result<T> = std::result::Result<T, MetaError>;

#[cfg(test)]
mod echo_tests {
    use super::*;

    #[test]
    fn long_numbers_are_echoed_in_exponent_form() {
        let e = MetaError::invalid_option("level", 1e308, "must be in (0, 100)");
        assert_eq!(
            e.to_string(),
            MetaError::InvalidOption {
                option: "level".into(),
                value: "1e308".into(),
                reason: "must be in (0, 100)".into(),
            }
            .to_string()
        );
        assert_eq!(echo(95.5), "95.5");
        assert_eq!(echo(-0.000_001_25), "-0.00000125");
        assert_eq!(echo("two.sided"), "two.sided");
        assert_eq!(echo(1.5e-300), "1.5e-300");
        assert_eq!(echo(u64::MAX), "18446744073709551615");
    }
}
