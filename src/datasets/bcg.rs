//! The BCG vaccine trials (Colditz et al. 1994; real data).

use super::Embedded;
use crate::error::Result;

const FILE: &str = "data/bcg.csv";
const TEXT: &str = include_str!("../../data/bcg.csv");
const HEADER: [&str; 9] = [
    "trial", "author", "year", "tpos", "tneg", "cpos", "cneg", "ablat", "alloc",
];

/// One BCG vaccine trial, with every column of metadat's `dat.bcg` (names in parentheses).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BcgTrial {
    /// Trial number (`trial`), 1 to 13.
    pub trial: u32,
    /// Author(s) (`author`).
    pub author: String,
    /// Publication year (`year`).
    pub year: u32,
    /// Tuberculosis cases in the vaccinated group (`tpos`).
    pub tpos: u32,
    /// Non-cases in the vaccinated group (`tneg`).
    pub tneg: u32,
    /// Tuberculosis cases in the control group (`cpos`).
    pub cpos: u32,
    /// Non-cases in the control group (`cneg`).
    pub cneg: u32,
    /// Absolute latitude of the trial site, in degrees (`ablat`).
    pub ablat: u32,
    /// Method of treatment allocation (`alloc`): `random`, `alternate` or `systematic`.
    pub alloc: String,
}

/// The 13 BCG vaccine trials meta-analysed by Colditz et al. (1994): tuberculosis cases and
/// non-cases in the vaccinated and control arms, the absolute latitude of each trial and its
/// method of allocation. The most common worked example of meta-analysis software (metafor's
/// `dat.bcg`); **real** data, embedded from the repository's `data/bcg.csv`.
///
/// # Errors
/// [`MetaError::Csv`](crate::MetaError::Csv) naming the line and column if the embedded file
/// were malformed (a bug: the shipped file is checked by the tests).
///
/// # Examples
/// ```
/// let trials = metan::datasets::bcg()?;
/// assert_eq!(trials.len(), 13);
/// let aronson = &trials[0];
/// assert_eq!((aronson.tpos, aronson.tneg, aronson.cpos, aronson.cneg), (4, 119, 11, 128));
/// assert_eq!(aronson.alloc, "random");
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Colditz, G. A., Brewer, T. F., Berkey, C. S., Wilson, M. E., Burdick, E., Fineberg, H. V.,
/// & Mosteller, F. (1994). Efficacy of BCG vaccine in the prevention of tuberculosis:
/// Meta-analysis of the published literature. *JAMA*, 271(9), 698-702 (as distributed in the
/// metadat R package, `dat.bcg`).
pub fn bcg() -> Result<Vec<BcgTrial>> {
    let t = Embedded::parse(TEXT, FILE, &HEADER)?;
    (0..t.len())
        .map(|r| {
            Ok(BcgTrial {
                trial: t.count(r, 0)?,
                author: t.string(r, 1)?,
                year: t.count(r, 2)?,
                tpos: t.count(r, 3)?,
                tneg: t.count(r, 4)?,
                cpos: t.count(r, 5)?,
                cneg: t.count(r, 6)?,
                ablat: t.count(r, 7)?,
                alloc: t.string(r, 8)?,
            })
        })
        .collect()
}
