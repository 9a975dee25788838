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
//! | [`MetaError::InvalidValue`] | NaN/infinite estimate, variance or SE `<= 0`, bad count, ... | fix the named field of the named study |
//! | [`MetaError::InvalidOption`] | an option out of range (level outside (0, 100), negative fixed tau^2, ...) | pass a valid value |
//! | [`MetaError::TooFewStudies`] | an analysis that needs more studies than given (e.g. Knapp-Hartung with k = p) | add studies or choose another analysis |
//! | [`MetaError::UnknownName`] | an unknown method, test, measure or column name | use one of the names listed in the message |
//! | [`MetaError::Csv`] | a CSV file that cannot be read or parsed | fix the named file, row and column |
//! | [`MetaError::RankDeficient`] | collinear moderators | drop one of the named columns |
//! | [`MetaError::TooFewClusters`] | cluster-robust inference with fewer clusters than coefficients + 1 | add clusters or drop moderators |
//! | [`MetaError::InvalidCluster`] | a cluster whose covariance block is not positive definite, or that makes a model degenerate | fix the named cluster's variances / correlation |
//! | [`MetaError::NotConverged`] | every estimator of a fallback chain failed to converge | raise `max_iter`, or add a closed-form estimator (e.g. DL) to the chain |
//! | [`MetaError::Numerical`] | a computation that overflowed on finite input (e.g. effects of 1e300 with variances of 1e-300, whose weights times effects are infinite) | rescale the effects and variances (e.g. change units); otherwise report it as a bug |

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
        "the model matrix is rank deficient: columns {columns:?} are collinear with the others"
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
            value: value.to_string(),
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
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// Shorthand for `Result<T, MetaError>`.
pub type Result<T> = std::result::Result<T, MetaError>;
