//! The outcome of a study with a binary outcome and drop-outs ([`BinaryCounts`], per arm
//! [`ArmCounts`]) and the rules that turn it into a log odds ratio ([`MissingRule`]): the
//! data shared by the scenario engine (`scenarios`) and the attrition analyses
//! (`attrition`), which both build on this module and not on each other. The rules are
//! described in the `attrition` module.

use crate::data::effect_size::{EffectSizes, TwoByTwo, TwoByTwoMeasure};

/// Counts in one arm.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ArmCounts {
    /// Completers with the event (e.g. re-offended).
    pub events: f64,
    /// Completers without the event.
    pub non_events: f64,
    /// Drop-outs.
    pub dropouts: f64,
    /// Drop-outs known to have had the event, when the study followed them up (used only
    /// by [`MissingRule::ObservedDropouts`]; every other rule treats drop-outs as missing).
    #[cfg_attr(feature = "serde", serde(default))]
    pub dropout_events: Option<f64>,
}

impl ArmCounts {
    /// An arm's counts.
    pub fn new(events: f64, non_events: f64, dropouts: f64) -> Self {
        ArmCounts {
            events,
            non_events,
            dropouts,
            dropout_events: None,
        }
    }
    /// Records how many drop-outs had the event (when they were followed up).
    pub fn with_dropout_events(mut self, events: f64) -> Self {
        self.dropout_events = Some(events);
        self
    }
    /// Everyone randomised: completers plus drop-outs.
    pub fn total(&self) -> f64 {
        self.events + self.non_events + self.dropouts
    }
    /// Proportion of drop-outs.
    pub fn dropout_rate(&self) -> f64 {
        self.dropouts / self.total()
    }
}

/// A two-arm binary outcome with drop-outs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BinaryCounts {
    /// The programme (experimental) arm.
    pub treatment: ArmCounts,
    /// The comparison arm.
    pub control: ArmCounts,
}

impl BinaryCounts {
    /// Both arms.
    pub fn new(treatment: ArmCounts, control: ArmCounts) -> Self {
        BinaryCounts { treatment, control }
    }

    /// Checks the counts: finite, `>= 0`, at least one completer per arm.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn check(&self) -> Result<(), String> {
        for (arm, c) in [("treatment", &self.treatment), ("control", &self.control)] {
            for (f, x) in [
                ("events", c.events),
                ("non_events", c.non_events),
                ("dropouts", c.dropouts),
            ] {
                if !(x.is_finite() && x >= 0.0) {
                    return Err(format!("{arm} {f} = {x}: counts must be finite and >= 0"));
                }
            }
            if let Some(e) = c.dropout_events {
                if !(e.is_finite() && e >= 0.0 && e <= c.dropouts) {
                    return Err(format!(
                        "{arm} dropout_events = {e}: must be finite, >= 0 and <= dropouts"
                    ));
                }
            }
            if !(c.events + c.non_events > 0.0) {
                return Err(format!("{arm} arm has no completers"));
            }
        }
        Ok(())
    }
}

/// How drop-outs enter the log odds ratio.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "rule", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum MissingRule {
    /// Completers only.
    #[default]
    AvailableCase,
    /// Every drop-out counted as an event (failure), in both arms.
    DropoutsAsEvents,
    /// Intention to treat with the drop-outs' observed outcomes in an arm that reports them
    /// ([`ArmCounts::dropout_events`]), completers only in an arm that does not: the
    /// analysis a study itself reports.
    ObservedDropouts,
    /// Best case for the treatment: treatment drop-outs without, control drop-outs with the
    /// event.
    BestCase,
    /// Worst case for the treatment: treatment drop-outs with, control drop-outs without the
    /// event.
    WorstCase,
    /// Informative missingness odds ratios (Higgins, White & Wood 2008), one per arm:
    /// `odds(event | drop-out) = IMOR x odds(event | completer)`. IMOR = 1 is missing at
    /// random; IMOR = 0 means no drop-out had the event.
    Imor {
        /// IMOR in the treatment arm.
        treatment: f64,
        /// IMOR in the control arm.
        control: f64,
    },
}

impl MissingRule {
    /// A short name for tables.
    pub fn label(&self) -> String {
        match self {
            MissingRule::AvailableCase => "available case".into(),
            MissingRule::DropoutsAsEvents => "ITT, drop-outs as events".into(),
            MissingRule::ObservedDropouts => "as reported (observed drop-out outcomes)".into(),
            MissingRule::BestCase => "best case".into(),
            MissingRule::WorstCase => "worst case".into(),
            MissingRule::Imor { treatment, control } => {
                format!("IMOR {treatment} (treatment) / {control} (control)")
            }
        }
    }

    /// The log odds ratio of the event (treatment vs control) and its sampling variance.
    ///
    /// # Formula
    /// Imputation rules: the 2x2 table of events / non-events after imputing the drop-outs,
    /// then `log((a d)/(b c))` with variance `1/a + 1/b + 1/c + 1/d` (1/2 added to every cell
    /// when one is zero, as metafor's `escalc("OR")`).
    ///
    /// IMOR (Higgins, White & Wood 2008, with their delta-method variance conditional on
    /// the IMORs; White & Higgins 2009, option `w4`): per arm, with completers' risk
    /// `p = r/(r + f)`, drop-out proportion `a = m/(r + f + m)` and IMOR `d`,
    /// `p_m = d p/(d p + 1 - p)`, `p* = (1 - a) p + a p_m`,
    /// `var(p*) = ((1 - a) + a d/(d p + 1 - p)^2)^2 p(1 - p)/(r + f) + (p_m - p)^2 a(1 - a)/(r + f + m)`;
    /// `yi = logit(p*_T) - logit(p*_C)`, `vi = sum over arms of var(p*)/(p*(1 - p*))^2`.
    /// When an observed cell (`r` or `f` of either arm) is zero, 1/2 is added to the four
    /// observed cells first.
    ///
    /// # Errors
    /// A message for invalid counts or an IMOR that is not finite and `>= 0`.
    ///
    /// # Examples
    /// ```
    /// use metan::sensitivity::{ArmCounts, BinaryCounts, MissingRule};
    /// let c = BinaryCounts::new(ArmCounts::new(20.0, 60.0, 20.0), ArmCounts::new(30.0, 60.0, 10.0));
    /// let (aca, _) = MissingRule::AvailableCase.log_or(&c)?;
    /// assert!((aca - (20.0f64 * 60.0 / (60.0 * 30.0)).ln()).abs() < 1e-14);
    /// // IMOR = 1 in both arms is missing at random: the available-case estimate
    /// let (mar, _) = MissingRule::Imor { treatment: 1.0, control: 1.0 }.log_or(&c)?;
    /// assert!((mar - aca).abs() < 1e-14);
    /// // counting drop-outs as re-offenders removes much of the apparent benefit
    /// let (itt, _) = MissingRule::DropoutsAsEvents.log_or(&c)?;
    /// assert!(itt > aca);
    /// # Ok::<(), String>(())
    /// ```
    pub fn log_or(&self, c: &BinaryCounts) -> Result<(f64, f64), String> {
        c.check()?;
        let (t, k) = (&c.treatment, &c.control);
        let table = log_or_cells;
        match *self {
            MissingRule::AvailableCase => table(t.events, t.non_events, k.events, k.non_events),
            MissingRule::DropoutsAsEvents => table(
                t.events + t.dropouts,
                t.non_events,
                k.events + k.dropouts,
                k.non_events,
            ),
            MissingRule::ObservedDropouts => {
                let cells = |a: &ArmCounts| match a.dropout_events {
                    Some(e) => (a.events + e, a.non_events + a.dropouts - e),
                    None => (a.events, a.non_events),
                };
                let ((a, b), (cc, d)) = (cells(t), cells(k));
                table(a, b, cc, d)
            }
            MissingRule::BestCase => table(
                t.events,
                t.non_events + t.dropouts,
                k.events + k.dropouts,
                k.non_events,
            ),
            MissingRule::WorstCase => table(
                t.events + t.dropouts,
                t.non_events,
                k.events,
                k.non_events + k.dropouts,
            ),
            MissingRule::Imor { treatment, control } => {
                for (arm, d) in [("treatment", treatment), ("control", control)] {
                    if !(d.is_finite() && d >= 0.0) {
                        return Err(format!(
                            "IMOR of the {arm} arm = {d}: must be finite and >= 0"
                        ));
                    }
                }
                let zero = [t.events, t.non_events, k.events, k.non_events].contains(&0.0);
                let add = if zero { 0.5 } else { 0.0 };
                let (pt, vt) = imor_arm(t.events + add, t.non_events + add, t.dropouts, treatment);
                let (pc, vc) = imor_arm(k.events + add, k.non_events + add, k.dropouts, control);
                let logit = |p: f64| (p / (1.0 - p)).ln();
                let var = |p: f64, v: f64| v / (p * (1.0 - p) * p * (1.0 - p));
                Ok((logit(pt) - logit(pc), var(pt, vt) + var(pc, vc)))
            }
        }
    }
}

/// `p*` and `var(p*)` of one arm under an IMOR (see [`MissingRule::log_or`]).
fn imor_arm(r: f64, f: f64, m: f64, d: f64) -> (f64, f64) {
    let n_obs = r + f;
    let n = n_obs + m;
    let p = r / n_obs;
    let a = m / n;
    let den = d * p + 1.0 - p;
    let pm = d * p / den;
    let pstar = (1.0 - a) * p + a * pm;
    let dp = (1.0 - a) + a * d / (den * den);
    let var = dp * dp * p * (1.0 - p) / n_obs + (pm - p) * (pm - p) * a * (1.0 - a) / n;
    (pstar, var)
}

/// Log odds ratio and variance of a 2x2 table (`a`, `b`: events / non-events in the
/// treatment arm; `c`, `d` in the control arm), from the crate's `escalc`
/// ([`crate::data::effect_size`], measure OR, metafor's defaults: 1/2 added to every cell of
/// a table with a zero cell).
pub(crate) fn log_or_cells(a: f64, b: f64, c: f64, d: f64) -> Result<(f64, f64), String> {
    let table = [TwoByTwo::new(a, b, c, d)];
    let es = EffectSizes::two_by_two(&table, TwoByTwoMeasure::OR)
        .compute()
        .map_err(|e| e.to_string())?;
    match (es.yi()[0], es.vi()[0]) {
        (Some(y), Some(v)) => Ok((y, v)),
        _ => Err(format!(
            "log odds ratio undefined for the table ({a}, {b}, {c}, {d})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalc_zero_cell_rule() {
        let (y, v) = log_or_cells(0.0, 10.0, 5.0, 5.0).unwrap();
        assert!((y - (0.5f64 * 5.5 / (10.5 * 5.5)).ln()).abs() < 1e-15);
        assert!((v - (2.0 + 1.0 / 10.5 + 2.0 / 5.5)).abs() < 1e-15);
        let (y, _) = log_or_cells(2.0, 10.0, 5.0, 5.0).unwrap();
        assert!((y - (2.0f64 * 5.0 / 50.0).ln()).abs() < 1e-15);
    }

    /// The IMOR variance equals the delta method on `p*(p, a)` computed numerically.
    #[test]
    fn imor_variance_is_the_delta_method() {
        let (r, f, m, d) = (12.0, 30.0, 9.0, 2.5);
        let pstar = |p: f64, a: f64| {
            let pm = d * p / (d * p + 1.0 - p);
            (1.0 - a) * p + a * pm
        };
        let (p, a) = (r / (r + f), m / (r + f + m));
        let h = 1e-6;
        let dp = (pstar(p + h, a) - pstar(p - h, a)) / (2.0 * h);
        let da = (pstar(p, a + h) - pstar(p, a - h)) / (2.0 * h);
        let var = dp * dp * p * (1.0 - p) / (r + f) + da * da * a * (1.0 - a) / (r + f + m);
        let (ps, v) = imor_arm(r, f, m, d);
        assert!((ps - pstar(p, a)).abs() < 1e-15);
        assert!((v - var).abs() < 1e-9 * var, "{v} vs {var}");
    }

    #[test]
    fn imor_limits_match_imputation() {
        let c = BinaryCounts::new(
            ArmCounts::new(20.0, 60.0, 20.0),
            ArmCounts::new(30.0, 60.0, 10.0),
        );
        // IMOR 0 in both arms: no drop-out had the event (point estimate of ICA-0)
        let (y0, _) = MissingRule::Imor {
            treatment: 0.0,
            control: 0.0,
        }
        .log_or(&c)
        .unwrap();
        let want = ((20.0f64 / 80.0) / (30.0 / 70.0)).ln();
        assert!((y0 - want).abs() < 1e-14);
        assert!(
            MissingRule::Imor {
                treatment: -1.0,
                control: 1.0
            }
            .log_or(&c)
            .is_err()
        );
        let bad = BinaryCounts::new(ArmCounts::new(0.0, 0.0, 5.0), ArmCounts::new(1.0, 1.0, 0.0));
        assert!(MissingRule::AvailableCase.log_or(&bad).is_err());
    }
}
