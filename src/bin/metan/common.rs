//! Options shared by the subcommands.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use metan::data::csv::{CsvSpec, Table, read_studies};
use metan::{MetaAnalysis, MetaError, Method, TestKind};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// metafor-style text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// Serializes to pretty JSON followed by a newline.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, metan::MetaError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| metan::MetaError::Numerical {
            context: format!("JSON serialization: {e}"),
        })
}

/// The input file and its study columns, shared by every subcommand that reads studies.
#[derive(Args, Debug)]
pub struct Input {
    /// CSV file with one row per study.
    pub csv: PathBuf,
    /// Column of effect estimates.
    #[arg(long, default_value = "yi")]
    pub yi: String,
    /// Column of sampling variances (the default, `vi`).
    #[arg(long, conflicts_with = "sei")]
    pub vi: Option<String>,
    /// Column of standard errors (instead of variances).
    #[arg(long)]
    pub sei: Option<String>,
    /// Column of study labels.
    #[arg(long)]
    pub slab: Option<String>,
}

impl Input {
    /// The columns as a [`CsvSpec`]: standard errors when `--sei` is given, else the
    /// variances of `--vi` (default `vi`).
    pub fn spec(&self) -> CsvSpec {
        let spec = CsvSpec::new(self.yi.clone());
        let spec = match (&self.vi, &self.sei) {
            (_, Some(se)) => spec.standard_errors(se.clone()),
            (Some(v), None) => spec.variances(v.clone()),
            (None, None) => spec.variances("vi"),
        };
        match &self.slab {
            Some(l) => spec.labels(l.clone()),
            None => spec,
        }
    }

    /// Reads the studies (estimates, precision, labels) from the file.
    pub fn read(&self) -> Result<metan::Studies, metan::MetaError> {
        read_studies(&self.csv, &self.spec())
    }
}

/// Reads the studies of a CSV file: estimates, variances (or standard errors), labels, and
/// the moderator columns `mods` (a column whose non-missing cells are all numbers is a
/// numeric moderator, any other column is categorical) and grouping columns `groups`
/// (always categorical, kept as text).
///
/// A missing value in a numeric moderator is an error naming the line and column; one in
/// a categorical moderator is an error naming the study when the model is built.
pub fn load_studies(
    input: &Input,
    mods: &[String],
    groups: &[String],
) -> Result<metan::Studies, metan::MetaError> {
    let csv = &input.csv;
    let mut studies = input.read()?;
    if mods.is_empty() && groups.is_empty() {
        return Ok(studies);
    }
    let table = Table::from_path(csv)?;
    for m in mods {
        let text = table.text_column(m)?;
        let missing = |s: &str| s.trim().is_empty() || s.trim() == "NA";
        let numeric = text.iter().any(|s| !missing(s))
            && text
                .iter()
                .filter(|s| !missing(s))
                .all(|s| s.trim().parse::<f64>().is_ok_and(f64::is_finite));
        studies = if numeric {
            studies.with_moderator(m.clone(), table.numeric_column(m)?)?
        } else {
            studies.with_attribute(m.clone(), text)?
        };
    }
    for g in groups {
        studies = studies.with_attribute(g.clone(), table.text_column(g)?)?;
    }
    Ok(studies)
}

/// Splits `a,b,c` (empty parts dropped).
pub fn split_list(s: &[String]) -> Vec<String> {
    s.iter()
        .flat_map(|x| x.split(','))
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Parses `COL=LEVEL`.
pub fn parse_reference(s: &str) -> Result<(String, String), metan::MetaError> {
    match s.split_once('=') {
        Some((c, l)) if !c.trim().is_empty() => Ok((c.trim().to_string(), l.trim().to_string())),
        _ => Err(metan::MetaError::InvalidOption {
            option: "reference".into(),
            value: s.to_string(),
            reason: "expected COL=LEVEL".into(),
        }),
    }
}

/// Parses `2,3` (1-based coefficient numbers).
pub fn parse_btt(s: &str) -> Result<Vec<usize>, metan::MetaError> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| metan::MetaError::InvalidOption {
                    option: "btt".into(),
                    value: s.to_string(),
                    reason: "expected 1-based coefficient numbers such as 2,3".into(),
                })
        })
        .collect()
}

/// Set by Ctrl-C (SIGINT) once [`catch_interrupt`] was called.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Why the printed result is partial, set by a command that was stopped.
static PARTIAL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Makes Ctrl-C (SIGINT) set the returned flag instead of ending the process, for the long
/// runs (permutation tests, GOSH), which then stop at their next chunk of work and report
/// what they did as partial. Another Ctrl-C more than a second later ends the process at
/// once (exit 130); one within the second is the same request delivered twice (e.g. by
/// `timeout`, which signals the command and its process group).
pub fn catch_interrupt() -> &'static std::sync::atomic::AtomicBool {
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        static FIRST: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ONCE.call_once(|| {
            // without a handler, Ctrl-C ends the process as usual
            let _ = ctrlc::set_handler(|| {
                let first = *FIRST.get_or_init(std::time::Instant::now);
                if INTERRUPTED.swap(true, std::sync::atomic::Ordering::SeqCst)
                    && first.elapsed() > std::time::Duration::from_secs(1)
                {
                    std::process::exit(130);
                }
            });
        });
    }
    &INTERRUPTED
}

/// Records that the result is partial (`note` says what was done); `main` then prints the
/// note on stderr and exits with 130, the code of an interrupted command.
pub fn mark_partial(note: String) {
    let _ = PARTIAL.set(note);
}

/// The note of [`mark_partial`], if any.
pub fn partial_note() -> Option<&'static str> {
    PARTIAL.get().map(String::as_str)
}

/// A progress line on stderr, rewritten in place at most 5 times a second, when stderr is a
/// terminal; nothing otherwise (logs and pipes stay clean).
pub struct ProgressLine {
    label: &'static str,
    unit: &'static str,
    active: bool,
    shown: bool,
    last: std::time::Instant,
}

impl ProgressLine {
    /// A line `label: done of total unit (pct%)`.
    pub fn new(label: &'static str, unit: &'static str) -> Self {
        use std::io::IsTerminal;
        ProgressLine {
            label,
            unit,
            active: std::io::stderr().is_terminal(),
            shown: false,
            last: std::time::Instant::now(),
        }
    }

    /// Shows `p` (throttled).
    pub fn update(&mut self, p: metan::progress::Progress) {
        if !self.active || self.last.elapsed() < std::time::Duration::from_millis(200) {
            return;
        }
        self.last = std::time::Instant::now();
        self.shown = true;
        let pct = 100.0 * p.done as f64 / (p.total.max(1)) as f64;
        eprint!(
            "\r{}: {} of {} {} ({pct:.1}%; Ctrl-C stops and reports the part done)",
            self.label, p.done, p.total, self.unit
        );
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}

/// The model options of every subcommand that fits a random- or equal-effects model
/// (`--method`, `--test`, `--level`), declared once and flattened into each: every
/// subcommand parses them alike (a negative number reaches the library's range check
/// rather than clap's "unexpected argument") and a bad value gives the same error whichever
/// subcommand received it.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model / tau^2 estimator: EE, FE, CE, DL, HE, HS, HSk, SJ, ML, REML, EB, PM, PMM, GENQ
    /// (case-insensitive). A comma-separated list is a fallback chain, e.g. REML,DL.
    #[arg(long, default_value = "REML")]
    pub method: String,
    /// Test for the pooled estimate: z, t, knha or adhoc.
    #[arg(long, default_value = "z")]
    pub test: String,
    #[command(flatten)]
    pub level: LevelArg,
}

impl ModelArgs {
    /// The estimator or fallback chain of `--method`.
    pub fn methods(&self) -> Result<Vec<Method>, MetaError> {
        self.method.split(',').map(str::parse).collect()
    }

    /// The test of `--test`.
    pub fn test(&self) -> Result<TestKind, MetaError> {
        self.test.parse()
    }

    /// `--level`, checked (see [`LevelArg::get`]).
    pub fn level(&self) -> Result<f64, MetaError> {
        self.level.get()
    }

    /// The model settings of these options (`--method`, `--test`, `--level`, in that order
    /// of checking).
    pub fn analysis(&self) -> Result<MetaAnalysis, MetaError> {
        let methods = self.methods()?;
        let test = self.test()?;
        Ok(MetaAnalysis::new()
            .methods(methods)
            .test(test)
            .level(self.level()?))
    }
}

/// `--level`, for every subcommand with a confidence level (also those without
/// `--method`/`--test`: `mh`, `peto`, `selmodel`).
#[derive(Args, Debug, Clone)]
pub struct LevelArg {
    /// Confidence level in percent, in (0, 100).
    #[arg(
        id = "level",
        long = "level",
        value_name = "LEVEL",
        default_value_t = 95.0,
        allow_negative_numbers = true
    )]
    pub value: f64,
}

impl LevelArg {
    /// The level, checked by the library's own rule (the same typed error, `invalid option
    /// `level``, from every subcommand).
    pub fn get(&self) -> Result<f64, MetaError> {
        MetaAnalysis::new().level(self.value).check()?;
        Ok(self.value)
    }
}
