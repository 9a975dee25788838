//! [`Clusters`]: which effects share a cluster (a study reporting several outcomes).

use crate::error::{MetaError, Result};

/// A validated assignment of effects to clusters (usually the study that reported them).
///
/// Effects in one cluster share participants, so their sampling errors and true effects
/// may be correlated; multilevel and multivariate models and cluster-robust inference
/// group by it. Cluster names are kept as given; [`Clusters::names`] lists them in
/// **sorted** order (R's factor levels, which is the order metafor and clubSandwich use
/// when they print or loop over clusters), and each effect's cluster is an index into it.
///
/// # Examples
///
/// ```
/// use metan::data::Clusters;
/// let c = Clusters::new(["s2", "s1", "s2", "s3"])?;
/// assert_eq!(c.len(), 3);
/// assert_eq!(c.names(), ["s1", "s2", "s3"]);
/// assert_eq!(c.of(0), 1);                       // row 0 is in cluster "s2"
/// assert_eq!(c.members(1), [0, 2]);             // rows of "s2", in data order
/// assert_eq!(c.sizes().collect::<Vec<_>>(), [1, 2, 1]);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Clusters {
    /// Distinct names, sorted.
    names: Vec<String>,
    /// The cluster index of each row.
    of: Vec<usize>,
    /// Rows of each cluster in data order, concatenated (CSR layout).
    rows: Vec<usize>,
    /// `rows[start[c]..start[c + 1]]` are the rows of cluster `c`.
    start: Vec<usize>,
}

impl Clusters {
    /// Clusters from one identifier per effect.
    ///
    /// # Errors
    /// [`MetaError::Empty`] for no rows, and [`MetaError::InvalidValue`] (field `cluster`)
    /// naming the row for an empty identifier (a missing value in a CSV column).
    pub fn new<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Result<Self> {
        let ids: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
        if ids.is_empty() {
            return Err(MetaError::Empty);
        }
        if let Some(i) = ids.iter().position(|s| s.trim().is_empty()) {
            return Err(MetaError::invalid_value(
                i,
                &super::studies::default_label(i),
                "cluster",
                "\"\"",
                "every effect needs a cluster identifier (missing value)",
            ));
        }
        let mut names = ids.clone();
        names.sort();
        names.dedup();
        let of: Vec<usize> = ids
            .iter()
            .map(|s| names.binary_search(s).unwrap_or_default())
            .collect();
        Ok(Self::from_indices(names, of))
    }

    /// Builds the CSR layout from sorted distinct names and each row's index into them.
    fn from_indices(names: Vec<String>, of: Vec<usize>) -> Self {
        let mut start = vec![0usize; names.len() + 1];
        for &c in &of {
            start[c + 1] += 1;
        }
        for c in 0..names.len() {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut rows = vec![0usize; of.len()];
        for (i, &c) in of.iter().enumerate() {
            rows[fill[c]] = i;
            fill[c] += 1;
        }
        Clusters {
            names,
            of,
            rows,
            start,
        }
    }

    /// The number of clusters.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: a `Clusters` has at least one row, hence one cluster.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The number of rows (effects).
    pub fn rows(&self) -> usize {
        self.of.len()
    }

    /// Cluster names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of cluster `c`.
    pub fn name(&self, c: usize) -> &str {
        &self.names[c]
    }

    /// The cluster index of row `i`.
    pub fn of(&self, i: usize) -> usize {
        self.of[i]
    }

    /// The cluster index of every row.
    pub fn assignments(&self) -> &[usize] {
        &self.of
    }

    /// The rows of cluster `c`, in data order.
    pub fn members(&self, c: usize) -> &[usize] {
        &self.rows[self.start[c]..self.start[c + 1]]
    }

    /// The size of each cluster, in the order of [`Clusters::names`].
    pub fn sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.start.windows(2).map(|w| w[1] - w[0])
    }

    /// The largest cluster size.
    pub fn max_size(&self) -> usize {
        self.sizes().max().unwrap_or(0)
    }

    /// The clusters of the given rows, in that order (clusters left without a row are
    /// dropped). Callers guarantee the indices are in range and not empty.
    pub(crate) fn subset(&self, indices: &[usize]) -> Self {
        let mut used: Vec<usize> = indices.iter().map(|&i| self.of[i]).collect();
        used.sort_unstable();
        used.dedup();
        let names = used.iter().map(|&c| self.names[c].clone()).collect();
        let of = indices
            .iter()
            .map(|&i| used.binary_search(&self.of[i]).unwrap_or_default())
            .collect();
        Self::from_indices(names, of)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn csr_layout_and_sorted_names() {
        let c = Clusters::new(["b", "a", "b", "c", "a"]).unwrap();
        assert_eq!(c.names(), ["a", "b", "c"]);
        assert_eq!(c.assignments(), [1, 0, 1, 2, 0]);
        assert_eq!(c.members(0), [1, 4]);
        assert_eq!(c.members(1), [0, 2]);
        assert_eq!(c.members(2), [3]);
        assert_eq!(c.max_size(), 2);
        assert_eq!(c.rows(), 5);
    }

    #[test]
    fn subset_drops_empty_clusters() {
        let c = Clusters::new(["b", "a", "b", "c", "a"]).unwrap();
        let s = c.subset(&[3, 0, 2]);
        assert_eq!(s.names(), ["b", "c"]);
        assert_eq!(s.assignments(), [1, 0, 0]);
        assert_eq!(s.members(0), [1, 2]);
    }

    #[test]
    fn missing_identifier_names_the_row() {
        let e = Clusters::new(["a", " ", "b"]).unwrap_err();
        assert!(
            matches!(e, MetaError::InvalidValue { ref study, ref field, .. } if study.index == 1 && field == "cluster")
        );
        assert_eq!(
            Clusters::new(Vec::<String>::new()).unwrap_err(),
            MetaError::Empty
        );
    }
}
