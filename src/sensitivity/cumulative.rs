//! Cumulative meta-analysis (metafor's `cumul`).

use super::engine::{self, Direct};
use super::leave_one_out::{RefitRow, Refits};
use super::prepare;
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::Settings;

/// The order in which studies enter a cumulative meta-analysis.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum CumulativeOrder {
    /// Input order (metafor's default).
    #[default]
    Input,
    /// Ascending (or descending) order of one value per study, ties kept in input order
    /// (metafor's `order = values`, with `decreasing`).
    Values {
        /// One finite value per study.
        values: Vec<f64>,
        /// Largest first.
        decreasing: bool,
    },
    /// By a numeric moderator of the [`Studies`] (e.g. publication year).
    Moderator {
        /// The moderator's name.
        name: String,
        /// Largest first.
        decreasing: bool,
    },
    /// An explicit permutation of the zero-based study indices: `perm[0]` enters first.
    Permutation(Vec<usize>),
}

impl CumulativeOrder {
    /// The zero-based study indices in entry order.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] / [`MetaError::InvalidValue`] for bad values,
    /// [`MetaError::UnknownName`] for an unknown moderator, and
    /// [`MetaError::InvalidOption`] for a vector that is not a permutation of `0..k`.
    pub fn indices(&self, studies: &Studies) -> Result<Vec<usize>> {
        let k = studies.k();
        let by = |values: &[f64], decreasing: bool, field: &str| -> Result<Vec<usize>> {
            if values.len() != k {
                return Err(MetaError::LengthMismatch {
                    field: field.to_string(),
                    expected: k,
                    found: values.len(),
                });
            }
            if let Some(i) = values.iter().position(|x| !x.is_finite()) {
                return Err(MetaError::invalid_value(
                    i,
                    studies.label(i),
                    field,
                    values[i],
                    "an ordering value must be finite",
                ));
            }
            let mut idx: Vec<usize> = (0..k).collect();
            // stable: ties keep their input order, in both directions (as R's order())
            if decreasing {
                idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
            } else {
                idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
            }
            Ok(idx)
        };
        match self {
            CumulativeOrder::Input => Ok((0..k).collect()),
            CumulativeOrder::Values { values, decreasing } => by(values, *decreasing, "order"),
            CumulativeOrder::Moderator { name, decreasing } => {
                let values = studies
                    .moderator(name)
                    .ok_or_else(|| MetaError::UnknownName {
                        kind: "moderator".into(),
                        name: name.clone(),
                        expected: studies.moderator_names().collect::<Vec<_>>().join(", "),
                    })?;
                by(values, *decreasing, name)
            }
            CumulativeOrder::Permutation(p) => {
                let mut seen = vec![false; k];
                if p.len() != k {
                    return Err(MetaError::LengthMismatch {
                        field: "permutation".into(),
                        expected: k,
                        found: p.len(),
                    });
                }
                for &i in p {
                    if i >= k || seen[i] {
                        return Err(MetaError::invalid_option(
                            "permutation",
                            i,
                            format!("not a permutation of 0..{k} (out of range or repeated)"),
                        ));
                    }
                    seen[i] = true;
                }
                Ok(p.clone())
            }
        }
    }
}

/// Cumulative meta-analysis: the model refitted on the first 1, 2, ..., k studies in the
/// given order (metafor's `cumul`), with the same estimator, test, level, fixed tau^2 and
/// weights. Row `i` is labelled with the study that entered at step `i`.
///
/// # Formula
/// Row `i` is [`MetaAnalysis::fit`](crate::MetaAnalysis::fit) on the studies `order[0..=i]`. The first row (k = 1)
/// has tau^2 = 0, Q = 0, I^2 = 0, H^2 = 1 and a z test, as in metafor.
///
/// # Errors
/// Those of [`MetaAnalysis::fit`](crate::MetaAnalysis::fit) and of [`CumulativeOrder::indices`].
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Method, Studies};
/// use metan::sensitivity::{CumulativeOrder, cumulative};
/// let s = Studies::from_variances(vec![0.1, 0.5, 0.3], vec![0.01, 0.02, 0.015])?
///     .with_moderator("year", vec![2001.0, 1995.0, 1999.0])?;
/// let by_year = CumulativeOrder::Moderator { name: "year".into(), decreasing: false };
/// let c = cumulative(&MetaAnalysis::new().method(Method::DL), &s, &by_year)?;
/// assert_eq!(c.rows()[0].study, "Study 2"); // 1995 first
/// assert_eq!(c.rows()[0].estimate, 0.5);
/// assert_eq!(c.rows()[2].k, 3);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Lau, J., Antman, E. M., Jimenez-Silva, J., Kupelnick, B., Mosteller, F., & Chalmers,
/// T. C. (1992). Cumulative meta-analysis of therapeutic trials for myocardial infarction.
/// *New England Journal of Medicine*, 327, 248-254.
pub fn cumulative(
    spec: &(impl Settings + ?Sized),
    studies: &Studies,
    order: &CumulativeOrder,
) -> Result<Refits> {
    let prep = prepare(spec, studies, 1, "cumulative meta-analysis")?;
    let idx = order.indices(studies)?;
    let y: Vec<f64> = idx.iter().map(|&i| studies.yi()[i]).collect();
    let v: Vec<f64> = idx.iter().map(|&i| studies.vi()[i]).collect();
    let p = &prep.spec;
    let a: Option<Vec<f64>> = p.weights().map(|w| idx.iter().map(|&i| w[i]).collect());
    let one = |i: usize| {
        let src = Direct::new(&y[..=i], &v[..=i], a.as_deref().map(|a| &a[..=i]));
        let t = engine::tau2(&src, p, None);
        engine::infer(&src, p, t)
    };
    #[cfg(feature = "parallel")]
    let fits: Vec<_> = {
        use rayon::prelude::*;
        (0..idx.len()).into_par_iter().map(one).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let fits: Vec<_> = (0..idx.len()).map(one).collect();
    let rows = fits
        .iter()
        .zip(&idx)
        .map(|(s, &i)| RefitRow::from_subfit(studies.label(i), s))
        .collect();
    Ok(Refits {
        rows,
        method: prep.fit.method(),
        test: p.test(),
        level: prep.fit.level(),
        digits: p.digits(),
    })
}
