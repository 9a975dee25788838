//! Data sets shipped with metan: real published data, and one clearly labelled
//! **simulated** data set.
//!
//! | function | real or simulated | what |
//! |---|---|---|
//! | [`landenberger2005()`] | real | 58 studies of cognitive-behavioural programmes for offenders (Landenberger & Lipsey 2005) |
//! | [`bcg()`] | real | 13 BCG vaccine trials (Colditz et al. 1994) |
//! | [`published_results()`] | real (review-level) | pooled results of reviews of IPV perpetrator programmes, as printed, each with its source |
//! | [`ipv::simulate`] | **simulated** | study-level evaluations of IPV perpetrator programmes, drawn from a documented generating model calibrated to the published results |
//!
//! The files live in the repository's `data/` directory (cited in `data/SOURCES.md`) and are
//! embedded in the library with `include_str!`, so these functions need no file system. A
//! malformed embedded file would be a bug in metan; it is still reported as a
//! [`MetaError::Csv`] naming the file, line and column, never as a panic.
//!
//! No function here computes effect sizes: the records expose the raw counts, and effect
//! sizes are computed by the caller.
//!
//! # Examples
//!
//! ```
//! let cbt = metan::datasets::landenberger2005()?;
//! assert_eq!(cbt.len(), 58);
//! let bcg = metan::datasets::bcg()?;
//! assert_eq!(bcg[0].author, "Aronson");
//! # Ok::<(), metan::MetaError>(())
//! ```

mod bcg;
pub mod ipv;

mod landenberger;
mod published;

pub use bcg::{BcgTrial, bcg};
pub use landenberger::{CbtComponents, LandenbergerStudy, landenberger2005};
pub use published::{PublishedResult, published_results};

use crate::data::csv::Table;
use crate::error::{MetaError, Result};

/// One embedded CSV file, read as text, with typed accessors that report the file, line and
/// column of any bad cell.
struct Embedded {
    table: Table,
}

impl Embedded {
    /// Parses `text` (named `name` in errors) and checks that its header is exactly
    /// `expected`, in order.
    fn parse(text: &str, name: &str, expected: &[&str]) -> Result<Self> {
        let table = Table::from_reader(text.as_bytes(), name)?;
        let found: Vec<&str> = table.headers().iter().map(String::as_str).collect();
        if found != expected {
            return Err(MetaError::Csv {
                path: name.to_string(),
                row: Some(1),
                column: None,
                message: format!(
                    "unexpected header: found [{}], expected [{}]",
                    found.join(", "),
                    expected.join(", ")
                ),
            });
        }
        Ok(Embedded { table })
    }

    fn len(&self) -> usize {
        self.table.len()
    }

    fn err(&self, row: usize, col: usize, message: impl Into<String>) -> MetaError {
        MetaError::Csv {
            path: self.table.name().to_string(),
            row: Some(self.table.line(row)),
            column: self.table.headers().get(col).cloned(),
            message: message.into(),
        }
    }

    /// The raw text of cell (`row`, `col`).
    fn text(&self, row: usize, col: usize) -> &str {
        self.table
            .rows()
            .get(row)
            .and_then(|r| r.get(col))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// A non-empty text cell.
    fn string(&self, row: usize, col: usize) -> Result<String> {
        let t = self.text(row, col);
        if t.is_empty() || t == "NA" {
            return Err(self.err(row, col, "missing value"));
        }
        Ok(t.to_string())
    }

    /// A text cell; empty means `None`.
    fn opt_string(&self, row: usize, col: usize) -> Option<String> {
        let t = self.text(row, col);
        (!t.is_empty()).then(|| t.to_string())
    }

    /// A finite number; `NA` (or an empty cell) is an error.
    fn number(&self, row: usize, col: usize) -> Result<f64> {
        self.opt_number(row, col)?
            .ok_or_else(|| self.err(row, col, "missing value"))
    }

    /// A finite number; `NA` or an empty cell means `None`.
    fn opt_number(&self, row: usize, col: usize) -> Result<Option<f64>> {
        let t = self.text(row, col);
        if t.is_empty() || t == "NA" {
            return Ok(None);
        }
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(self.err(row, col, format!("`{t}` is not a finite number"))),
        }
    }

    /// A non-negative integer (a count, a year).
    fn count(&self, row: usize, col: usize) -> Result<u32> {
        self.opt_count(row, col)?
            .ok_or_else(|| self.err(row, col, "missing value"))
    }

    /// A non-negative integer; `NA` or an empty cell means `None`.
    fn opt_count(&self, row: usize, col: usize) -> Result<Option<u32>> {
        let t = self.text(row, col);
        if t.is_empty() || t == "NA" {
            return Ok(None);
        }
        t.parse::<u32>()
            .map(Some)
            .map_err(|_| self.err(row, col, format!("`{t}` is not a non-negative integer")))
    }

    /// A `yes` / `no` cell.
    fn yes_no(&self, row: usize, col: usize) -> Result<bool> {
        match self.text(row, col) {
            "yes" => Ok(true),
            "no" => Ok(false),
            t => Err(self.err(row, col, format!("`{t}` is neither `yes` nor `no`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn embedded_reports_file_line_and_column() {
        let e = Embedded::parse("a,b\n1,x\n", "t.csv", &["a", "c"])
            .err()
            .unwrap();
        assert!(matches!(e, MetaError::Csv { row: Some(1), .. }));
        let t = Embedded::parse("a,b\n1,x\nNA,yes\n", "t.csv", &["a", "b"]).unwrap();
        assert_eq!(t.count(0, 0).unwrap(), 1);
        assert_eq!(t.opt_count(1, 0).unwrap(), None);
        assert_eq!(
            t.count(1, 0).unwrap_err(),
            MetaError::Csv {
                path: "t.csv".into(),
                row: Some(3),
                column: Some("a".into()),
                message: "missing value".into()
            }
        );
        assert_eq!(
            t.number(0, 1).unwrap_err(),
            MetaError::Csv {
                path: "t.csv".into(),
                row: Some(2),
                column: Some("b".into()),
                message: "`x` is not a finite number".into()
            }
        );
        assert!(t.yes_no(1, 1).unwrap());
        assert!(t.yes_no(0, 1).is_err());
    }
}
