//! The model matrix `X`: numeric moderators as they are, categorical ones dummy-coded
//! against a reference level (R's treatment contrasts), an optional intercept, and the
//! collinearity check.

use nalgebra::DMatrix;

use crate::data::Studies;
use crate::error::{MetaError, Result};

/// How one moderator enters the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModSpec {
    /// A numeric moderator of the studies if there is one with this name, otherwise a
    /// string attribute (categorical).
    Auto(String),
    /// Categorical, also when the studies hold it as a numeric moderator (R's `factor(x)`).
    Categorical(String),
}

impl ModSpec {
    pub(crate) fn name(&self) -> &str {
        match self {
            ModSpec::Auto(n) | ModSpec::Categorical(n) => n,
        }
    }
}

/// The model matrix with its column names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Design {
    pub x: DMatrix<f64>,
    pub names: Vec<String>,
    /// The first column is the intercept.
    pub int_incl: bool,
    /// The intercept is the only column.
    pub int_only: bool,
    /// For each categorical moderator: its name and its levels in column order (the
    /// reference level first when an intercept absorbs it).
    pub factors: Vec<(String, Vec<String>)>,
}

/// R's `as.character` for a number used as a factor level (shortest round-trip form).
fn level_name(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn missing(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t == "NA"
}

/// Largest `|x|` of a numeric moderator: with weights up to `1/MIN_VARIANCE = 1e150`, the
/// entries `w x^2` of `X'WX` stay below 1e300.
pub(crate) const MAX_ABS_MODERATOR: f64 = 1e75;
/// Smallest largest-`|x|` of a numeric moderator that is not identically zero: with weights
/// down to `1/MAX_VARIANCE = 1e-150`, the entries `w x^2` of `X'WX` stay above 1e-300 (below,
/// they underflow and the column looks collinear with the others).
pub(crate) const MIN_ABS_MODERATOR: f64 = 1e-75;

/// A numeric moderator whose magnitude overflows or underflows `X'WX`: an error naming the
/// study with the largest `|x|` and the rescaling that fixes it (the coefficient scales by
/// the factor, every test is unchanged).
fn check_moderator_range(studies: &Studies, name: &str, x: &[f64]) -> Result<()> {
    let Some((i, m)) = x
        .iter()
        .map(|v| v.abs())
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return Ok(());
    };
    if m == 0.0 || (MIN_ABS_MODERATOR..=MAX_ABS_MODERATOR).contains(&m) {
        return Ok(());
    }
    let e = m.log10().round();
    let rescale = if e > 0.0 {
        format!("divide the column `{name}` by c = {:e}", 10f64.powf(e))
    } else {
        format!("multiply the column `{name}` by c = {:e}", 10f64.powf(-e))
    };
    Err(MetaError::invalid_value(
        i,
        studies.label(i),
        name,
        format!("{:e}", x[i]),
        format!(
            "outside the numerical range of a moderator ({MIN_ABS_MODERATOR:e} <= max |x| <= \
             {MAX_ABS_MODERATOR:e}: the weighted squares in X'WX overflow or underflow double \
             precision); rescale: {rescale} (its coefficient changes by the inverse factor; tests \
             and p-values do not change)"
        ),
    ))
}

/// Builds `X` for `studies`.
///
/// Categorical moderators: levels in byte-wise sorted order (R's factor levels in the C
/// locale; numeric levels numerically), the `reference` level (default: the first) dropped
/// when an intercept is present. Without an intercept, the first categorical moderator gets
/// one column per level (as R's `model.matrix(~ f - 1)`). Column names follow R for
/// character variables: `intrcpt`, `name`, `name` + level.
///
/// # Errors
/// * [`MetaError::UnknownName`] for a moderator that is neither a numeric moderator nor an
///   attribute of the studies, or a reference level that does not occur;
/// * [`MetaError::InvalidValue`] naming the study for a missing categorical value (`""`
///   or `NA`);
/// * [`MetaError::InvalidOption`] for no columns at all, a duplicated moderator, a
///   categorical moderator with a single level, or a reference for a non-categorical
///   moderator;
/// * [`MetaError::RankDeficient`] naming the columns that are linear combinations of the
///   ones before them.
pub(crate) fn build(
    studies: &Studies,
    mods: &[ModSpec],
    references: &[(String, String)],
    intercept: bool,
) -> Result<Design> {
    let k = studies.k();
    if mods.is_empty() && !intercept {
        return Err(MetaError::invalid_option(
            "intercept",
            false,
            "a model needs an intercept or at least one moderator",
        ));
    }
    for (i, m) in mods.iter().enumerate() {
        if mods[..i].iter().any(|o| o.name() == m.name()) {
            return Err(MetaError::invalid_option(
                "moderators",
                m.name(),
                "moderator given twice",
            ));
        }
    }
    let mut cols: Vec<Vec<f64>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut factors = Vec::new();
    if intercept {
        cols.push(vec![1.0; k]);
        names.push("intrcpt".into());
    }
    let mut full_coding_used = intercept;
    let mut categorical_names = Vec::new();
    for m in mods {
        let name = m.name();
        let numeric = studies.moderator(name);
        let attribute = studies.attribute(name);
        // the values of a categorical moderator, as (level text, sort key)
        let cat: Option<Vec<String>> = match (m, numeric, attribute) {
            (ModSpec::Auto(_), Some(x), _) => {
                check_moderator_range(studies, name, x)?;
                cols.push(x.to_vec());
                names.push(name.to_string());
                None
            }
            (ModSpec::Categorical(_), Some(x), _) => {
                Some(x.iter().map(|&a| level_name(a)).collect())
            }
            (_, None, Some(a)) => {
                if let Some(i) = a.iter().position(|s| missing(s)) {
                    return Err(MetaError::invalid_value(
                        i,
                        studies.label(i),
                        name,
                        format!("{:?}", a[i]),
                        "missing moderator value (metafor drops such studies with a warning; \
                         remove or impute them first)",
                    ));
                }
                Some(a.iter().map(|s| s.trim().to_string()).collect())
            }
            (_, None, None) => {
                let known: Vec<&str> = studies
                    .moderator_names()
                    .chain(studies.attribute_names())
                    .collect();
                return Err(MetaError::UnknownName {
                    kind: "moderator".into(),
                    name: name.to_string(),
                    expected: if known.is_empty() {
                        "(the studies have no moderators or attributes)".into()
                    } else {
                        known.join(", ")
                    },
                });
            }
        };
        let Some(values) = cat else { continue };
        categorical_names.push(name.to_string());
        let mut levels: Vec<String> = values.clone();
        match numeric {
            Some(x) => {
                let mut xs = x.to_vec();
                xs.sort_by(f64::total_cmp);
                xs.dedup();
                levels = xs.into_iter().map(level_name).collect();
            }
            None => {
                levels.sort();
                levels.dedup();
            }
        }
        if let Some((_, r)) = references.iter().find(|(n, _)| n == name) {
            let Some(pos) = levels.iter().position(|l| l == r) else {
                return Err(MetaError::UnknownName {
                    kind: format!("level of `{name}`"),
                    name: r.clone(),
                    expected: levels.join(", "),
                });
            };
            let l = levels.remove(pos);
            levels.insert(0, l);
        }
        if levels.len() < 2 {
            return Err(MetaError::invalid_option(
                "moderators",
                name,
                format!(
                    "categorical moderator has a single level ({:?})",
                    levels.first().cloned().unwrap_or_default()
                ),
            ));
        }
        let start = if full_coding_used { 1 } else { 0 };
        full_coding_used = true;
        for l in &levels[start..] {
            cols.push(values.iter().map(|s| f64::from(u8::from(s == l))).collect());
            names.push(format!("{name}{l}"));
        }
        factors.push((name.to_string(), levels));
    }
    for (n, _) in references {
        if !categorical_names.iter().any(|c| c == n) {
            return Err(MetaError::invalid_option(
                "reference",
                n,
                "only a categorical moderator of the model has a reference level",
            ));
        }
    }
    let p = cols.len();
    let collinear = collinear_columns(&cols);
    if !collinear.is_empty() {
        return Err(MetaError::RankDeficient {
            columns: collinear.into_iter().map(|j| names[j].clone()).collect(),
        });
    }
    let x = DMatrix::from_fn(k, p, |i, j| cols[j][i]);
    Ok(Design {
        x,
        int_incl: intercept,
        int_only: intercept && p == 1,
        names,
        factors,
    })
}

/// Columns that are (numerically) linear combinations of the columns before them: modified
/// Gram-Schmidt with re-orthogonalisation, a column being redundant when less than `1e-7` of
/// its norm is left (the tolerance of R's `lm`, whose aliased coefficients metafor drops).
pub(crate) fn collinear_columns(cols: &[Vec<f64>]) -> Vec<usize> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut out = Vec::new();
    for (j, c) in cols.iter().enumerate() {
        let norm0 = c.iter().map(|a| a * a).sum::<f64>().sqrt();
        if !(norm0 > 0.0) {
            out.push(j);
            continue;
        }
        let mut r = c.clone();
        for _ in 0..2 {
            for b in &basis {
                let d: f64 = r.iter().zip(b).map(|(a, b)| a * b).sum();
                for (ri, bi) in r.iter_mut().zip(b) {
                    *ri -= d * bi;
                }
            }
        }
        let norm = r.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm <= 1e-7 * norm0 {
            out.push(j);
        } else {
            r.iter_mut().for_each(|a| *a /= norm);
            basis.push(r);
        }
    }
    out
}

/// metafor's `.format.btt`: `2:4`, `2,5`, `1:3,5`, ... (1-based, sorted).
pub(crate) fn format_btt(btt: &[usize]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < btt.len() {
        let mut j = i;
        while j + 1 < btt.len() && btt[j + 1] == btt[j] + 1 {
            j += 1;
        }
        if j > i {
            out.push(format!("{}:{}", btt[i], btt[j]));
        } else {
            out.push(btt[i].to_string());
        }
        i = j + 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn studies() -> Studies {
        Studies::from_variances(vec![0.1, 0.2, 0.3, 0.4, 0.5], vec![0.1; 5])
            .unwrap()
            .with_moderator("x", vec![1.0, 2.0, 3.0, 4.0, 5.0])
            .unwrap()
            .with_moderator("x2", vec![2.0, 4.0, 6.0, 8.0, 10.0])
            .unwrap()
            .with_attribute("g", ["b", "a", "c", "a", "b"])
            .unwrap()
    }

    #[test]
    fn dummy_coding_like_r() {
        let s = studies();
        let d = build(&s, &[ModSpec::Auto("g".into())], &[], true).unwrap();
        assert_eq!(d.names, ["intrcpt", "gb", "gc"]);
        assert_eq!(d.x.column(1).as_slice(), &[1.0, 0.0, 0.0, 0.0, 1.0]);
        let d = build(
            &s,
            &[ModSpec::Auto("g".into())],
            &[("g".into(), "c".into())],
            true,
        )
        .unwrap();
        assert_eq!(d.names, ["intrcpt", "ga", "gb"]);
        let d = build(
            &s,
            &[ModSpec::Auto("g".into()), ModSpec::Auto("x".into())],
            &[],
            false,
        )
        .unwrap();
        assert_eq!(d.names, ["ga", "gb", "gc", "x"]);
        assert!(!d.int_incl);
        let d = build(&s, &[ModSpec::Categorical("x".into())], &[], true).unwrap();
        assert_eq!(d.names, ["intrcpt", "x2", "x3", "x4", "x5"]);
    }

    #[test]
    fn collinear_columns_are_named() {
        let s = studies();
        let e = build(
            &s,
            &[ModSpec::Auto("x".into()), ModSpec::Auto("x2".into())],
            &[],
            true,
        )
        .unwrap_err();
        assert_eq!(
            e,
            MetaError::RankDeficient {
                columns: vec!["x2".into()]
            }
        );
        let e = build(&s, &[ModSpec::Auto("nope".into())], &[], true).unwrap_err();
        assert!(matches!(e, MetaError::UnknownName { ref name, .. } if name == "nope"));
    }

    #[test]
    fn btt_format() {
        assert_eq!(format_btt(&[2]), "2");
        assert_eq!(format_btt(&[2, 3]), "2:3");
        assert_eq!(format_btt(&[1, 2, 3, 5]), "1:3,5");
        assert_eq!(format_btt(&[2, 4, 5]), "2,4:5");
    }
}
