//! Events and person-time: [`IncidenceTable`] (two groups: IRR) and [`EventRate`] (one
//! group: IR).

use super::measure::Measure;
use super::table::EffectSizeTable;
use super::{Labels, Options, corrected, count, finish, finite};
use crate::error::{MetaError, Result};

/// The measures computed from two groups' events and person-times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum IncidenceMeasure {
    /// Log incidence rate ratio.
    ///
    /// # Formula
    /// `yi = ln(x1/t1) - ln(x2/t2)`, `vi = 1/x1 + 1/x2`.
    IRR,
}

impl From<IncidenceMeasure> for Measure {
    fn from(_: IncidenceMeasure) -> Measure {
        Measure::IRR
    }
}

/// The measures computed from one group's events and person-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RateMeasure {
    /// Raw incidence rate.
    ///
    /// # Formula
    /// `yi = x/t`, `vi = x/t^2`.
    IR,
}

impl From<RateMeasure> for Measure {
    fn from(_: RateMeasure) -> Measure {
        Measure::IR
    }
}

/// One study's events and person-times in two groups (metafor's `x1i, t1i, x2i, t2i`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct IncidenceTable {
    /// Events in group 1.
    pub x1i: f64,
    /// Person-time in group 1.
    pub t1i: f64,
    /// Events in group 2.
    pub x2i: f64,
    /// Person-time in group 2.
    pub t2i: f64,
}

impl IncidenceTable {
    /// Group 1's events and person-time, then group 2's.
    pub fn new(x1i: f64, t1i: f64, x2i: f64, t2i: f64) -> Self {
        IncidenceTable { x1i, t1i, x2i, t2i }
    }

    fn validate(&self, i: usize, labels: &Labels) -> Result<()> {
        count(i, labels, "x1i", self.x1i)?;
        count(i, labels, "x2i", self.x2i)?;
        person_time(i, labels, "t1i", self.t1i)?;
        person_time(i, labels, "t2i", self.t2i)
    }
}

/// One study's events `xi` in person-time `ti` (metafor's `xi, ti`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EventRate {
    /// Events.
    pub xi: f64,
    /// Person-time.
    pub ti: f64,
}

impl EventRate {
    /// `xi` events in person-time `ti`.
    pub fn new(xi: f64, ti: f64) -> Self {
        EventRate { xi, ti }
    }
}

fn person_time(i: usize, labels: &Labels, field: &str, t: f64) -> Result<()> {
    finite(i, labels, field, t)?;
    if !(t > 0.0) {
        return Err(MetaError::invalid_value(
            i,
            &labels.get(i),
            field,
            t,
            "a person-time must be > 0",
        ));
    }
    Ok(())
}

/// IRR (`two = Some`) or IR: the shared correction logic.
pub(super) trait Rates: Copy {
    fn validate(&self, i: usize, labels: &Labels) -> Result<()>;
    fn events(&self) -> (f64, Option<f64>);
    fn times(&self) -> (f64, Option<f64>);
}

impl Rates for IncidenceTable {
    fn validate(&self, i: usize, labels: &Labels) -> Result<()> {
        IncidenceTable::validate(self, i, labels)
    }
    fn events(&self) -> (f64, Option<f64>) {
        (self.x1i, Some(self.x2i))
    }
    fn times(&self) -> (f64, Option<f64>) {
        (self.t1i, Some(self.t2i))
    }
}

impl Rates for EventRate {
    fn validate(&self, i: usize, labels: &Labels) -> Result<()> {
        count(i, labels, "xi", self.xi)?;
        person_time(i, labels, "ti", self.ti)
    }
    fn events(&self) -> (f64, Option<f64>) {
        (self.xi, None)
    }
    fn times(&self) -> (f64, Option<f64>) {
        (self.ti, None)
    }
}

pub(super) fn compute<R: Rates, M: Into<Measure>>(
    data: &[R],
    m: M,
    opts: &Options,
    labels: Labels,
) -> Result<EffectSizeTable> {
    for (i, s) in data.iter().enumerate() {
        s.validate(i, &labels)?;
    }
    let m: Measure = m.into();
    let dropped: Vec<bool> = data
        .iter()
        .map(|s| match s.events() {
            (x1, Some(x2)) => opts.drop00 && x1 == 0.0 && x2 == 0.0,
            _ => false,
        })
        .collect();
    let zero: Vec<bool> = data
        .iter()
        .map(|s| {
            let (x1, x2) = s.events();
            x1 == 0.0 || x2 == Some(0.0)
        })
        .collect();
    let fix = corrected(opts.to, &zero, &dropped);
    let (yi, vi) = data
        .iter()
        .zip(fix.iter().zip(&dropped))
        .map(|(s, (&f, &drop))| {
            if drop {
                return (None, None);
            }
            let add = if f { opts.add } else { 0.0 };
            let (x1, x2) = s.events();
            let (t1, t2) = s.times();
            let x1 = x1 + add;
            let ir1 = x1 / t1;
            match (x2, t2) {
                (Some(x2), Some(t2)) => {
                    let x2 = x2 + add;
                    let ir2 = x2 / t2;
                    finish(ir1.ln() - ir2.ln(), 1.0 / x1 + 1.0 / x2)
                }
                _ => finish(ir1, ir1 / t1),
            }
        })
        .unzip();
    let ni = data
        .iter()
        .map(|s| {
            let (t1, t2) = s.times();
            t1 + t2.unwrap_or(0.0)
        })
        .collect();
    Ok(EffectSizeTable::new(m, yi, vi, labels, ni))
}

#[cfg(test)]
mod tests {
    use super::super::EffectSizes;
    use super::*;

    #[test]
    fn rates_by_hand_and_errors() {
        let s = [IncidenceTable::new(9.0, 413.0, 19.0, 398.0)];
        let es = EffectSizes::incidence(&s, IncidenceMeasure::IRR)
            .compute()
            .unwrap();
        let y = (9.0f64 / 413.0).ln() - (19.0f64 / 398.0).ln();
        assert!((es.yi()[0].unwrap() - y).abs() < 1e-15);
        let r = [EventRate::new(0.0, 100.0)];
        let es = EffectSizes::rates(&r, RateMeasure::IR).compute().unwrap();
        assert_eq!(es.yi()[0], Some(0.005));
        let bad = [EventRate::new(1.0, -2.0)];
        let e = EffectSizes::rates(&bad, RateMeasure::IR)
            .compute()
            .unwrap_err();
        assert_eq!(
            e,
            MetaError::invalid_value(0, "Study 1", "ti", -2.0, "a person-time must be > 0")
        );
    }
}
