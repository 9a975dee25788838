//! The bad-request battery of issue 20 (item 4): every subcommand of `metan` gets each of
//! its options out of range, malformed and extreme, unreadable and unwritable paths, an
//! empty file, a header-only (0-row) file, a 1-row file and a CSV with 10^5 columns.
//!
//! Every request must end in exit 0 with the documented answer (the strings of
//! [`Want::Ok`] in stdout; stderr may hold `metan: warning:` lines only) or exit 1 with
//! exactly one stderr line `metan: error: ...` naming the option or value
//! ([`Want::Err`]) and nothing on stdout. No output may contain a Rust `Debug` marker
//! ([`FORBIDDEN`]). The peak memory (VmHWM) of the large requests (the 10^5-column file,
//! 10^9 iterations) is sampled from `/proc/PID/status` and must stay under [`MAX_RSS_MB`].
//!
//! # Adding a subcommand
//! Add a [`Sub`] to [`subcommands`]: its name, valid base arguments (a small data set),
//! what its normal output contains, the options to attack (each with an [`Opt`] kind that
//! generates the bad values and their expected outcomes), how it reads files
//! ([`Sub::files`]) and what a 1-row file gives. Requests that need exact figures go to
//! [`special_rows`]. `cargo test --release --test cli_battery -- --nocapture` prints the
//! count of requests per subcommand and their outcomes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What must never appear in anything metan prints.
const FORBIDDEN: [&str; 6] = [
    "Some(",
    "None",
    "{ kind:",
    "panicked",
    "backtrace",
    "RUST_BACKTRACE",
];

/// Numbers the output files of the `gosh` requests.
static GOSH_FILES: AtomicUsize = AtomicUsize::new(0);

/// Bound on the peak resident memory of a long request (10^9 iterations, 10^9 subsets).
const MAX_RSS_MB: u64 = 100;
/// Bound on the peak resident memory of a request on the file of 10^5 columns (1.7 MB):
/// the memory of reading it grows with its cells, not with anything else.
const MAX_RSS_WIDE_MB: u64 = 200;

/// The outcome a request must have.
#[derive(Debug, Clone)]
pub enum Want {
    /// Exit 0; stdout contains every string.
    Ok(Vec<String>),
    /// Exit 1; the one stderr line contains every string.
    Err(Vec<String>),
    /// Exit 1; the one stderr line contains at least one of the strings (the option's
    /// name, or the offending value as clap or metan quote it).
    ErrAny(Vec<String>),
}

fn ok(s: &[&str]) -> Want {
    Want::Ok(s.iter().map(|x| x.to_string()).collect())
}

fn err(s: &[&str]) -> Want {
    Want::Err(s.iter().map(|x| x.to_string()).collect())
}

/// An error naming the option `name` (without dashes) or quoting `value`.
fn err_naming(name: &str, value: &str) -> Want {
    let mut any = vec![name.to_string(), name.replace('-', "_")];
    if value.contains('/') {
        // a path is named as it is
        any.push(value.to_string());
    }
    Want::ErrAny(
        [
            any,
            vec![
                format!("`{name}`"),
                format!("'--{name}"),
                format!("--{name}"),
                format!("'{value}'"),
                format!("`{value}`"),
            ],
        ]
        .concat(),
    )
}

/// One request.
#[derive(Debug, Clone)]
pub struct Row {
    /// The subcommand (for the summary).
    pub sub: String,
    /// The arguments after `metan`.
    pub args: Vec<String>,
    /// Its required outcome.
    pub want: Want,
    /// The bound on its peak memory in MB, when sampled.
    pub max_mb: Option<u64>,
}

/// How an option is attacked.
#[derive(Debug, Clone, Copy)]
pub enum Opt {
    /// A confidence level in percent: (0, 100).
    Level,
    /// Decimals of the text output: 0..=max.
    Digits(usize),
    /// A count with a minimum (iterations, subsets): `ok_max` says whether u64::MAX is a
    /// valid request (it is when it means "all").
    Count { min: u64, ok_max: bool },
    /// A seed: any u64.
    Seed,
    /// A fixed tau^2: [0, 1e150].
    Tau2,
    /// A probability in (0, 1).
    Prob,
    /// A correlation in [0, 1].
    Rho,
    /// A size in pixels: [1, 1e6] (`zero_ok`: [0, 1e6]).
    Pixels { zero_ok: bool },
    /// A finite continuity correction.
    Add,
    /// One of a set of names; `abc` and the empty string are errors.
    Choice,
    /// A column of the input that must exist (and hold numbers when `numeric`).
    Column { numeric: bool },
    /// `true` or `false`.
    Bool,
    /// `text` or `json` (escalc: `csv` or `json`).
    Format,
    /// A file to write.
    OutPath,
    /// A file to read.
    InPath,
}

/// A subcommand under attack.
pub struct Sub {
    pub name: &'static str,
    /// Valid arguments after the subcommand, with `{CSV}` for the data file.
    pub base: Vec<String>,
    /// The data file of `base`.
    pub csv: String,
    /// What a normal run prints.
    pub ok_marker: &'static str,
    /// The options attacked, each once per bad value.
    pub options: Vec<(&'static str, Opt)>,
    /// Whether the positional file is attacked with the hostile files (scenarios reads its
    /// own long format: its hostile files are in that format).
    pub files: bool,
    /// The outcome of the 1-row file.
    pub one_row: Want,
}

struct Files {
    dir: PathBuf,
    bcg: String,
    bivariate: String,
    bcg_raw: String,
    small: String,
    rob: String,
    long: String,
    spec: String,
    one: String,
    zero: String,
    empty: String,
    wide: String,
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn files() -> Files {
    let dir = std::env::temp_dir().join(format!("metan-battery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // columns every subcommand can use: effects, 2x2 tables, a group, a moderator, a
    // cluster, and the long format of `scenarios`
    let header = "study,source,yi,vi,tpos,tneg,cpos,cneg,g,x";
    let row = |i: usize| {
        format!(
            "S{i},official,{:.3},{:.3},{},{},{},{},{},{}",
            0.1 * i as f64 - 0.25,
            0.05 + 0.01 * i as f64,
            3 + i,
            20 + i,
            5 + 2 * i,
            18,
            ["a", "b"][i % 2],
            1.5 * i as f64
        )
    };
    let mut small = String::from(header);
    for i in 0..6 {
        small.push('\n');
        small.push_str(&row(i));
    }
    small.push('\n');
    // 10^5 columns: the 10 used ones and 99 990 more
    let extra = 100_000 - 10;
    let mut wide = String::with_capacity(2_000_000);
    wide.push_str(header);
    for j in 0..extra {
        wide.push_str(&format!(",c{j}"));
    }
    wide.push('\n');
    for i in 0..5 {
        wide.push_str(&row(i));
        wide.push_str(&",1".repeat(extra));
        wide.push('\n');
    }
    let spec = "provenance = \"battery\"\n[model]\nmethod = \"DL\"\n[base]\nname = \"all\"\nsources = [\"official\"]\nmix_comparisons = true\n";
    Files {
        bcg: "tests/fixtures/bcg_rr.csv".into(),
        // SIMULATED: 8 studies with an official and a partner-reported effect each
        bivariate: "tests/fixtures/digest_bivariate.csv".into(),
        bcg_raw: "data/bcg.csv".into(),
        small: write(&dir, "small.csv", &small),
        rob: write(
            &dir,
            "rob.csv",
            "study,yi,vi,x,design\nA,0.30,0.02,1,rct\nA,0.42,0.03,2,rct\nB,0.10,0.02,1,qe\n\
             B,0.15,0.04,3,qe\nB,0.22,0.03,2,qe\nC,0.55,0.03,3,rct\nC,0.48,0.02,1,rct\n\
             D,0.20,0.05,2,qe\nE,0.35,0.03,2,rct\nE,0.05,0.04,1,rct\nF,0.61,0.02,3,qe\n",
        ),
        long: "data/ipv_simulated_long.csv".into(),
        spec: write(&dir, "spec.toml", spec),
        one: write(&dir, "one.csv", &format!("{header}\n{}\n", row(3))),
        zero: write(&dir, "zero.csv", &format!("{header}\n")),
        empty: write(&dir, "empty.csv", ""),
        wide: write(&dir, "wide.csv", &wide),
        dir,
    }
}

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

/// The subcommands and their options. Add new subcommands here.
fn subcommands(f: &Files) -> Vec<Sub> {
    use Opt::*;
    let input = [
        ("yi", Column { numeric: true }),
        ("vi", Column { numeric: true }),
        ("sei", Column { numeric: true }),
        ("slab", Column { numeric: false }),
    ];
    let model = [
        ("method", Choice),
        ("test", Choice),
        ("level", Level),
        ("tau2", Tau2),
    ];
    let tables = [
        ("ai", Column { numeric: true }),
        ("bi", Column { numeric: true }),
        ("ci", Column { numeric: true }),
        ("di", Column { numeric: true }),
    ];
    let cells = [
        "--ai", "tpos", "--bi", "tneg", "--ci", "cpos", "--di", "cneg",
    ];
    let with = |a: &[(&'static str, Opt)], b: &[(&'static str, Opt)]| {
        let mut x = a.to_vec();
        x.extend_from_slice(b);
        x
    };
    let plot = |extra: &[(&'static str, Opt)]| {
        with(
            &with(&input, &model),
            &with(
                &[
                    ("output", OutPath),
                    ("width", Pixels { zero_ok: false }),
                    ("xlabel", Choice),
                ],
                extra,
            ),
        )
    };
    // `xlabel` accepts any text: attacked as Choice it must take "abc" and "" (see below)
    let diag = with(
        &with(&input, &model),
        &[
            ("weights", Column { numeric: true }),
            ("digits", Digits(22)),
            ("format", Format),
        ],
    );
    let pool = with(
        &tables,
        &[
            ("slab", Column { numeric: false }),
            ("add", Add),
            ("to", Choice),
            ("drop00", Bool),
            ("table-add", Add),
            ("table-to", Choice),
            ("table-drop00", Bool),
            ("level", Level),
            ("digits", Digits(22)),
            ("format", Format),
        ],
    );
    let mut cells_base = vec!["{CSV}".to_string()];
    cells_base.extend(v(&cells));
    vec![
        Sub {
            name: "fit",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "Model Results",
            options: with(
                &with(&input, &model),
                &[
                    ("weights", Column { numeric: true }),
                    ("digits", Digits(22)),
                    ("mods", Column { numeric: false }),
                    ("scale", Column { numeric: false }),
                    ("btt", Choice),
                    ("reference", Choice),
                    ("format", Format),
                    ("measure", Choice),
                    ("robust", Choice),
                    ("cluster", Column { numeric: false }),
                    ("drop00", Bool),
                ],
            ),
            files: true,
            one_row: ok(&["k = 1", "0.0500"]),
        },
        Sub {
            name: "escalc",
            base: [
                &["{CSV}".to_string(), "--measure".into(), "OR".into()],
                &v(&cells)[..],
            ]
            .concat(),
            csv: f.bcg_raw.clone(),
            ok_marker: ",yi,vi",
            options: with(
                &tables,
                &[
                    ("slab", Column { numeric: false }),
                    ("add", Add),
                    ("to", Choice),
                    ("drop00", Bool),
                    ("vtype", Choice),
                    ("convert-to", Choice),
                    ("conversion-method", Choice),
                    ("format", Format),
                ],
            ),
            files: true,
            // the row's log odds ratio ln(6*18 / (23*11)) = -0.85125826160330..., variance
            // 1/6 + 1/23 + 1/11 + 1/18 = 0.35660957400087...
            one_row: ok(&["-0.851258261603", "0.356609574000"]),
        },
        Sub {
            name: "mh",
            base: cells_base.clone(),
            csv: f.bcg_raw.clone(),
            ok_marker: "Model Results",
            options: with(&pool, &[("measure", Choice), ("correct", Bool)]),
            files: true,
            one_row: ok(&["Equal-Effects Model (k = 1)"]),
        },
        Sub {
            name: "peto",
            base: cells_base.clone(),
            csv: f.bcg_raw.clone(),
            ok_marker: "Model Results",
            options: pool.clone(),
            files: true,
            one_row: ok(&["Equal-Effects Model (k = 1)"]),
        },
        Sub {
            name: "forest",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "<svg",
            options: plot(&[
                ("transform", Choice),
                ("digits", Digits(12)),
                ("label-width", Pixels { zero_ok: true }),
            ]),
            files: true,
            one_row: ok(&["<svg", "</svg>"]),
        },
        Sub {
            name: "funnel",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "<svg",
            options: plot(&[("transform", Choice), ("height", Pixels { zero_ok: false })]),
            files: true,
            one_row: ok(&["<svg", "</svg>"]),
        },
        Sub {
            name: "baujat",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "<svg",
            options: plot(&[("height", Pixels { zero_ok: false })]),
            files: true,
            one_row: err(&["a Baujat plot needs at least 2 studies, got 1"]),
        },
        Sub {
            name: "subgroup",
            base: v(&["{CSV}", "--by", "g"]),
            csv: f.small.clone(),
            ok_marker: "Subgroup Analysis by g",
            options: with(
                &input,
                &[
                    ("method", Choice),
                    ("test", Choice),
                    ("level", Level),
                    ("digits", Digits(22)),
                    ("format", Format),
                ],
            ),
            files: true,
            one_row: err(&["single level"]),
        },
        Sub {
            name: "permutest",
            base: v(&["{CSV}", "--mods", "x"]),
            csv: f.small.clone(),
            ok_marker: "Model Results",
            options: with(
                &input,
                &[
                    (
                        "iter",
                        Count {
                            min: 2,
                            ok_max: true,
                        },
                    ),
                    ("seed", Seed),
                    ("btt", Choice),
                    ("reference", Choice),
                    ("method", Choice),
                    ("test", Choice),
                    ("level", Level),
                    ("digits", Digits(22)),
                    ("format", Format),
                ],
            ),
            files: true,
            // one study: its moderator is constant, hence collinear with the intercept
            one_row: err(&["column `x` is collinear with the others"]),
        },
        Sub {
            name: "leave1out",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "estimate",
            options: diag.clone(),
            files: true,
            one_row: err(&["leave-one-out needs at least 2 studies, got 1"]),
        },
        Sub {
            name: "cumul",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "estimate",
            options: with(&diag, &[("order", Column { numeric: true })]),
            files: true,
            one_row: ok(&["Study 1", "0.0500"]),
        },
        Sub {
            name: "influence",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "rstudent",
            options: diag.clone(),
            files: true,
            one_row: err(&["influence diagnostics needs at least 2 studies, got 1"]),
        },
        Sub {
            name: "gosh",
            base: v(&["{CSV}"]),
            csv: f.small.clone(),
            ok_marker: "GOSH (REML model)",
            options: with(
                &with(&input, &model),
                &[
                    ("weights", Column { numeric: true }),
                    ("digits", Digits(22)),
                    (
                        "max-subsets",
                        Count {
                            min: 1,
                            ok_max: true,
                        },
                    ),
                    ("seed", Seed),
                    ("output", OutPath),
                ],
            ),
            files: true,
            one_row: err(&["GOSH needs at least 2 studies, got 1"]),
        },
        Sub {
            name: "scenarios",
            base: v(&["{CSV}"]),
            csv: f.long.clone(),
            ok_marker: "Sensitivity analysis",
            options: vec![("spec", InPath), ("format", Format)],
            files: true,
            one_row: ok(&["Sensitivity analysis", "k"]),
        },
        Sub {
            name: "bias",
            base: v(&["{CSV}"]),
            csv: f.bcg.clone(),
            ok_marker: "Regression Test for Funnel Plot Asymmetry",
            options: with(
                &with(&input, &model),
                &[
                    ("predictor", Choice),
                    ("model", Choice),
                    ("estimator", Choice),
                    ("side", Choice),
                    ("exact", Bool),
                    ("alpha", Prob),
                    ("pet-alpha", Prob),
                    ("format", Format),
                    ("measure", Choice),
                ],
            ),
            files: true,
            one_row: ok(&["not computed", "Fail-safe N"]),
        },
        Sub {
            name: "robu",
            base: v(&["{CSV}", "--cluster", "study"]),
            csv: f.rob.clone(),
            ok_marker: "RVE: Correlated Effects Model",
            options: with(
                &input,
                &[
                    ("weights", Choice),
                    ("rho", Rho),
                    ("mods", Column { numeric: false }),
                    ("format", Format),
                ],
            ),
            files: true,
            one_row: err(&["needs at least 2 clusters, got 1"]),
        },
        Sub {
            name: "selmodel",
            base: v(&["{CSV}", "--type", "stepfun", "--steps", "0.025"]),
            csv: f.bcg.clone(),
            ok_marker: "Selection Model Results",
            options: with(
                &input,
                &[
                    ("method", Choice),
                    ("mods", Column { numeric: false }),
                    ("reference", Choice),
                    ("type", Choice),
                    // (0, 1]: attacked as a probability, 1 is valid (see `refine`)
                    ("steps", Prob),
                    ("alternative", Choice),
                    ("level", Level),
                    ("digits", Digits(22)),
                    ("format", Format),
                    ("plot", OutPath),
                ],
            ),
            files: true,
            one_row: err(&["needs at least 2 studies, got 1"]),
        },
        // three-level model (cluster/obs)
        Sub {
            name: "mv",
            base: v(&["{CSV}", "--cluster", "g"]),
            csv: f.small.clone(),
            ok_marker: "Multivariate Meta-Analysis Model",
            options: with(
                &input,
                &[
                    ("cluster", Column { numeric: false }),
                    ("obs", Column { numeric: false }),
                    ("rho", Rho),
                    ("method", Choice),
                    ("test", Choice),
                    ("level", Level),
                    ("mods", Column { numeric: false }),
                    ("reference", Choice),
                    ("btt", Choice),
                    ("robust", Choice),
                    ("digits", Digits(22)),
                    ("format", Format),
                ],
            ),
            files: true,
            one_row: err(&["needs at least 2 clusters, got 1"]),
        },
        // the time-lag correlation rho * phi^|t_i - t_j| (--time needs --rho and --phi)
        Sub {
            name: "mv",
            base: v(&[
                "{CSV}",
                "--cluster",
                "g",
                "--rho",
                "0.5",
                "--time",
                "x",
                "--phi",
                "0.5",
            ]),
            csv: f.small.clone(),
            ok_marker: "Multivariate Meta-Analysis Model",
            // (rho is attacked in the three-level request above)
            options: vec![("time", Column { numeric: true }), ("phi", Rho)],
            files: false,
            one_row: err(&[]),
        },
        // the multivariate model: a mean per outcome, outcome-level random effects
        Sub {
            name: "mv",
            base: v(&[
                "{CSV}",
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "1,-1",
            ]),
            csv: f.bivariate.clone(),
            ok_marker: "Multivariate Meta-Analysis Model",
            options: vec![
                ("outcome", Column { numeric: false }),
                ("struct", Choice),
                ("contrast", Choice),
                ("robust", Choice),
                ("level", Level),
                ("test", Choice),
            ],
            files: false,
            one_row: err(&[]),
        },
    ]
}

/// The bad values of an option kind and their outcomes (`name` without dashes).
fn values(sub: &Sub, name: &str, kind: Opt, f: &Files) -> Vec<(String, Want)> {
    let on = |v: &str| (v.to_string(), ok(&[sub.ok_marker]));
    let no = |v: &str| (v.to_string(), err_naming(name, v));
    let u64max = u64::MAX.to_string();
    let over = "18446744073709551616";
    let mut out = vec![];
    match kind {
        Opt::Level => {
            for x in [
                "0", "100", "-5", "abc", "NaN", "inf", "1e308", "1", "", "95%",
            ] {
                out.push(no(x));
            }
            for x in ["50", "99.99", "0.5"] {
                out.push(on(x));
            }
        }
        Opt::Digits(max) => {
            for x in ["-1", "abc", "1.5", over, "99999999999", ""] {
                out.push(no(x));
            }
            out.push(no(&(max + 1).to_string()));
            out.push(on("0"));
            out.push(on(&max.to_string()));
        }
        Opt::Count { min, ok_max } => {
            for x in ["-1", "abc", "1e3", over, ""] {
                out.push(no(x));
            }
            if min > 0 {
                out.push(no(&(min - 1).to_string()));
            }
            out.push(on(&min.to_string()));
            if ok_max {
                out.push(on(&u64max));
            }
        }
        Opt::Seed => {
            for x in ["-1", "abc", over, "1.5"] {
                out.push(no(x));
            }
            out.push(on("0"));
            out.push(on(&u64max));
        }
        Opt::Tau2 => {
            for x in ["-1", "NaN", "inf", "1e200", "abc", "1e400"] {
                out.push(no(x));
            }
            out.push(on("0"));
            out.push(on("1e-320"));
            out.push(on("1e6"));
        }
        Opt::Prob => {
            for x in ["0", "1", "NaN", "-0.1", "2", "abc", "inf"] {
                out.push(no(x));
            }
            out.push(on("0.5"));
            out.push(on("1e-300"));
        }
        Opt::Rho => {
            for x in ["-0.1", "1.1", "NaN", "inf", "abc", "1e308"] {
                out.push(no(x));
            }
            out.push(on("0"));
            out.push(on("1"));
        }
        Opt::Pixels { zero_ok } => {
            for x in ["-5", "NaN", "abc", "1e308", "inf", "1e7"] {
                out.push(no(x));
            }
            if zero_ok {
                out.push(on("0"));
            } else {
                out.push(no("0"));
                out.push(no("1e-300"));
            }
            out.push(on("1"));
            out.push(on("1e6"));
        }
        Opt::Add => {
            for x in ["-1", "NaN", "inf", "abc"] {
                out.push(no(x));
            }
            out.push(on("0"));
        }
        Opt::Choice => {
            if name == "xlabel" {
                // any text is a title
                out.push(on("abc"));
                out.push(on(""));
                out.push(on(&"x".repeat(100_000)));
            } else {
                out.push(no("abc"));
                out.push(no(&"Z".repeat(100_000)));
                out.push(no("1,2,x"));
                out.push(no(""));
            }
        }
        Opt::Column { numeric } => {
            out.push(no("no_such_column"));
            if numeric && sub.csv == f.bcg {
                out.push(no("author"));
            }
        }
        Opt::Bool => {
            for x in ["maybe", "1", "", "TRUE"] {
                out.push(no(x));
            }
        }
        Opt::Format => {
            for x in ["xml", "", "JSON5"] {
                out.push(no(x));
            }
        }
        Opt::OutPath => {
            let d = f.dir.display().to_string();
            for x in [
                "/nonexistent-dir/out.file",
                "/proc/metan-battery.out",
                d.as_str(),
                "",
            ] {
                out.push((x.to_string(), err_naming(name, x)));
            }
            if sub.name != "gosh" {
                out.push(no("/dev/full"));
            }
        }
        Opt::InPath => {
            let d = f.dir.display().to_string();
            for x in [
                "/nonexistent-dir/in.file",
                d.as_str(),
                f.empty.as_str(),
                f.bcg.as_str(),
                "",
            ] {
                out.push((x.to_string(), err_naming(name, x)));
            }
        }
    }
    out
}

/// Requests whose exact answer is known (documented behaviour or a number).
fn special_rows(f: &Files) -> Vec<Row> {
    let row = |args: &[&str], want: Want| Row {
        sub: args[0].to_string(),
        args: v(args),
        want,
        max_mb: None,
    };
    let large = |args: &[&str], want: Want| Row {
        sub: args[0].to_string(),
        args: v(args),
        want,
        max_mb: Some(MAX_RSS_MB),
    };
    let bcg = f.bcg.as_str();
    let gosh_out = f.dir.join("g.csv").display().to_string();
    let sel_svg = f.dir.join("selmodel.svg").display().to_string();
    let (small, biv) = (f.small.as_str(), f.bivariate.as_str());
    vec![
        // u64::MAX permutations of 13 studies: the 2^13 sign flips, exactly
        large(
            &["permutest", bcg, "--iter", "18446744073709551615"],
            ok(&["Running 8192 iterations for an exact permutation test."]),
        ),
        // 10^9 permutations of a moderator of 13 studies: more than can be enumerated,
        // refused before any work names --iter
        large(
            &[
                "permutest",
                bcg,
                "--mods",
                "ablat",
                "--iter",
                "1000000000",
                "--exact",
            ],
            err(&["invalid option `exact` = true", "389188800 permutations"]),
        ),
        large(
            &[
                "gosh",
                bcg,
                "--max-subsets",
                "1000000000",
                "--output",
                &gosh_out,
            ],
            ok(&["8191 subsets of k = 13 studies (all subsets)"]),
        ),
        row(
            &["fit", bcg, "--digits", "0"],
            ok(&["tau^2 (estimated amount of total heterogeneity): 0 (SE = 0)"]),
        ),
        row(
            &["fit", bcg, "--tau2", "0", "--method", "DL"],
            ok(&["user-specified tau^2 value"]),
        ),
        // weights: only their ratios matter; out of [1e-100, 1e100] an error naming the
        // study and the remedy
        row(
            &["fit", &f.weights_huge(), "--weights", "w"],
            err(&[
                "study 1 (Study 1): invalid `weights` = 1e200",
                "rescale the weights (only their ratios matter)",
            ]),
        ),
        row(
            &["fit", &f.weights_huge(), "--weights", "w2"],
            err(&["study 2 (Study 2): invalid `weights` = 1e-200"]),
        ),
        // moderators of magnitude 1e200 and 1e-200: an error naming the column and c
        row(
            &["fit", &f.mods_extreme(), "--mods", "big"],
            err(&[
                "invalid `big` = 3e200",
                "divide the column `big` by c = 1e200",
            ]),
        ),
        row(
            &["fit", &f.mods_extreme(), "--mods", "tiny"],
            err(&[
                "invalid `tiny` = 3e-200",
                "multiply the column `tiny` by c = 1e200",
            ]),
        ),
        row(
            &["fit", &f.mods_extreme(), "--scale", "big"],
            err(&["invalid `big` = 3e200"]),
        ),
        row(
            &["permutest", &f.mods_extreme(), "--mods", "tiny"],
            err(&["invalid `tiny` = 3e-200"]),
        ),
        row(
            &[
                "robu",
                &f.mods_extreme(),
                "--cluster",
                "cl",
                "--mods",
                "big",
            ],
            err(&["invalid `big` = 3e200"]),
        ),
        // the same data rescaled as the message says: an answer
        row(
            &["fit", &f.mods_extreme(), "--mods", "fine"],
            ok(&["Mixed-Effects Model (k = 4"]),
        ),
        // --scale: location-scale models (issue 17)
        row(
            &["fit", &f.rob, "--scale", "x", "--method", "DL"],
            err(&["location-scale models are fitted by ML or REML"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "x", "--tau2", "0.1"],
            err(&["invalid option `tau2`", "modelled by --scale"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "x", "--btt", "2"],
            err(&["invalid option `btt`"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "x", "--weights", "x"],
            err(&["invalid option `weights`"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "x", "--measure", "OR"],
            err(&["invalid option `measure`"]),
        ),
        row(
            &[
                "fit",
                &f.rob,
                "--scale",
                "x",
                "--cluster",
                "study",
                "--robust",
                "CR2",
            ],
            err(&["invalid option `robust`", "location-scale"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "no_such_column"],
            err(&["column `no_such_column`: column not found"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "x", "--reference", "design=qe"],
            err(&["invalid option `reference` = design=qe"]),
        ),
        row(
            &[
                "fit",
                &f.rob,
                "--scale",
                "design",
                "--reference",
                "design=zzz",
            ],
            err(&["zzz"]),
        ),
        row(&["fit", &f.rob, "--scale", "x,x"], err(&["x"])),
        row(
            &["fit", &f.rob, "--scale", "x", "--level", "0"],
            err(&["invalid option `level` = 0"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "x", "--digits", "23"],
            err(&["invalid option `digits` = 23: must be at most 22"]),
        ),
        row(
            &["fit", &f.rob, "--scale", "x", "--no-intercept"],
            err(&["invalid option `intercept` = false: a model needs an intercept"]),
        ),
        row(
            &["fit", &f.one, "--scale", "x"],
            err(&["invalid option `scale` = x: constant"]),
        ),
        large(
            &["fit", &f.wide, "--scale", "x"],
            ok(&["Location-Scale Model (k = 5", "Test of Scale Coefficients"]),
        ),
        // a spec that does not parse: one line with the position
        row(
            &["scenarios", &f.long, "--spec", bcg],
            err(&["TOML parse error at line 1, column 8: expected"]),
        ),
        // bias: an option out of range fails the command
        row(
            &["bias", bcg, "--target", "NaN"],
            err(&["invalid option `target` = NaN"]),
        ),
        row(&["bias", bcg, "--target", "1e308"], ok(&["Fail-safe N: 0"])),
        // mv: combinations of options
        row(
            &["mv", small, "--cluster", "g", "--confint"],
            ok(&["sigma^2.1  estimate", "sigma^2.2  estimate", "95% CI ["]),
        ),
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "UN",
                "--confint",
            ],
            ok(&["tau^2.1", "rho", "95% CI ["]),
        ),
        row(
            &["mv", small, "--cluster", "g", "--mods", "x", "--btt", "3"],
            err(&["invalid option `btt` = 3: coefficients are numbered 1..=2"]),
        ),
        row(
            &[
                "mv",
                small,
                "--cluster",
                "g",
                "--mods",
                "g",
                "--reference",
                "g=zzz",
            ],
            err(&["unknown level of `g` `zzz`; expected one of: a, b"]),
        ),
        row(
            &["mv", small, "--cluster", "g", "--reference", "g=b"],
            err(&["invalid option `reference` = g: only a categorical moderator"]),
        ),
        // six coefficients for six effects
        row(
            &["mv", small, "--cluster", "g", "--mods", "study"],
            err(&["a model with 6 coefficients needs at least 7 studies, got 6"]),
        ),
        // one observation per cluster: the two components are not identified (was "needs
        // at least 2 studies, got 1")
        row(
            &["mv", small, "--cluster", "g", "--obs", "source"],
            err(&[
                "invalid option `observations` = one per cluster: a three-level model needs a cluster with at least 2 observations",
            ]),
        ),
        row(
            &["mv", small, "--cluster", "study"],
            err(&["invalid option `observations` = one per cluster"]),
        ),
        row(
            &["mv", small, "--cluster", "g", "--phi", "0.5"],
            err(&["--time"]),
        ),
        row(
            &["mv", small, "--cluster", "g", "--rho", "0.5", "--time", "x"],
            err(&["--phi"]),
        ),
        row(
            &["mv", small, "--cluster", "g", "--time", "x", "--phi", "0.5"],
            err(&["invalid option `time` = x: a time lag needs --rho"]),
        ),
        row(
            &["mv", biv, "--cluster", "study", "--outcome", "source"],
            err(&["--struct"]),
        ),
        row(
            &["mv", biv, "--cluster", "study", "--struct", "CS"],
            err(&["--outcome"]),
        ),
        // the outcome column's errors name --outcome (was `moderators`)
        row(
            &[
                "mv",
                small,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
            ],
            err(&["invalid option `outcome` = source: outcome column has a single level"]),
        ),
        row(
            &[
                "mv",
                small,
                "--cluster",
                "study",
                "--outcome",
                "g",
                "--struct",
                "CS",
            ],
            err(&["invalid option `outcome` = g: the outcome is constant within every cluster"]),
        ),
        // contrasts: one coefficient per model coefficient, finite, not all zero, no
        // overflow (were "invalid option `X` = [1.0]", NA and "Inf" printed as results)
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "1",
            ],
            err(&["invalid option `contrast` = 1: each combination needs 2 finite coefficients"]),
        ),
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "1,-1,0",
            ],
            err(&["invalid option `contrast` = 1,-1,0: each combination needs 2"]),
        ),
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "0,0",
            ],
            err(&["invalid option `contrast` = 0,0: a combination of zeros tests nothing"]),
        ),
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "1e308,1",
            ],
            err(&[
                "invalid option `contrast` = 1e308,1: the combination overflows double precision",
            ]),
        ),
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "NaN,1",
            ],
            err(&["invalid option `contrast` = NaN,1: expected comma-separated numbers"]),
        ),
        // two equal contrasts: each tested, no joint test (metafor: QM NA), also robustly
        // (was "invalid option `constraints` = 2 rows")
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "1,-1",
                "--contrast",
                "1,-1",
                "--robust",
                "CR2",
            ],
            ok(&[
                "Hypotheses:",
                "2: sourceofficial - sourcepartner = 0",
                "Cluster-robust inference (CR2)",
            ]),
        ),
        row(
            &[
                "mv",
                biv,
                "--cluster",
                "study",
                "--outcome",
                "source",
                "--struct",
                "CS",
                "--contrast",
                "1,-1",
                "--robust",
                "CR2",
            ],
            ok(&["Robust test of the contrast(s) (HTZ)"]),
        ),
        row(
            &[
                "mv",
                small,
                "--cluster",
                "g",
                "--mods",
                "x",
                "--robust",
                "CR2",
            ],
            err(&[
                "cluster-robust inference (CR2) with 2 coefficients needs at least 3 clusters, got 2",
            ]),
        ),
        large(
            &[
                "mv",
                &f.wide,
                "--cluster",
                "g",
                "--mods",
                "x",
                "--rho",
                "0.5",
            ],
            ok(&[
                "Multivariate Meta-Analysis Model (k = 5",
                "Test of Moderators",
            ]),
        ),
        // selmodel
        row(&["selmodel", bcg, "--steps", "0.025"], err(&["--type"])),
        row(
            &["selmodel", bcg, "--type", "stepfun"],
            err(&["invalid option `steps` = none: the step function needs at least one step"]),
        ),
        row(
            &["selmodel", bcg, "--type", "stepfun", "--steps", "0.5,0.025"],
            err(&["invalid option `steps` = 0.5,0.025: steps must be strictly increasing"]),
        ),
        row(
            &[
                "selmodel",
                bcg,
                "--type",
                "stepfun",
                "--steps",
                "0.025,0.025",
            ],
            err(&["invalid option `steps` = 0.025,0.025: steps must be strictly increasing"]),
        ),
        row(
            &["selmodel", bcg, "--type", "stepfun", "--steps", "0.025,0.5"],
            ok(&["Selection Model Results"]),
        ),
        row(
            &["selmodel", bcg, "--type", "stepfun", "--steps", "0.025,2"],
            err(&["invalid option `steps` = 0.025,2: step 2 is outside (0, 1]"]),
        ),
        row(
            &["selmodel", bcg, "--type", "halfnorm", "--steps", "0.025"],
            err(&[
                "invalid option `steps` = 0.025: no observed p-value in the interval 0 < p <= 0.025",
            ]),
        ),
        row(
            &["selmodel", bcg, "--type", "halfnorm"],
            ok(&["Selection Model Results"]),
        ),
        row(
            &["selmodel", bcg, "--type", "power"],
            ok(&["Selection Model Results"]),
        ),
        row(
            &["selmodel", bcg, "--type", "beta", "--steps", "0.025"],
            ok(&["Selection Model Results"]),
        ),
        row(
            &[
                "selmodel", bcg, "--type", "stepfun", "--steps", "0.025", "--method", "DL",
            ],
            err(&[
                "invalid option `method` = DL: a selection model is fitted on an ML or REML model",
            ]),
        ),
        row(
            &[
                "selmodel",
                bcg,
                "--type",
                "stepfun",
                "--steps",
                "0.025",
                "--reference",
                "alloc=random",
            ],
            err(&["invalid option `reference` = alloc: only a categorical moderator"]),
        ),
        row(
            &[
                "selmodel",
                bcg,
                "--type",
                "stepfun",
                "--steps",
                "0.025",
                "--mods",
                "alloc",
                "--reference",
                "alloc=zz",
            ],
            err(&["unknown level of `alloc` `zz`"]),
        ),
        row(
            &[
                "selmodel",
                bcg,
                "--type",
                "stepfun",
                "--steps",
                "0.025",
                "--mods",
                "ablat",
                "--alternative",
                "two.sided",
            ],
            ok(&["Mixed-Effects Model", "Selection Model Results"]),
        ),
        // the plot goes to a file: stdout holds the results (was a file named `-`); an
        // unwritable path is refused before the fit, with no warning line before it
        row(
            &[
                "selmodel", bcg, "--type", "stepfun", "--steps", "0.025", "--plot", "-",
            ],
            err(&["invalid option `plot` = -: stdout holds the results"]),
        ),
        row(
            &[
                "selmodel", bcg, "--type", "stepfun", "--steps", "0.025", "--plot", &sel_svg,
            ],
            ok(&["Selection Model Results"]),
        ),
    ]
}

impl Files {
    fn weights_huge(&self) -> String {
        write(
            &self.dir,
            "weights.csv",
            "yi,vi,w,w2\n0.1,0.1,1e200,1\n0.2,0.2,1,1e-200\n0.3,0.1,1,1\n",
        )
    }

    fn mods_extreme(&self) -> String {
        write(
            &self.dir,
            "mods.csv",
            "yi,vi,big,tiny,fine,cl\n0.1,0.1,1e200,1e-200,1,a\n0.2,0.2,2e200,2e-200,2,a\n\
             0.35,0.1,3e200,3e-200,3,b\n0.5,0.1,-1e200,-1e-200,-1,b\n",
        )
    }
}

/// All requests: the generated ones of every subcommand, then the special ones.
fn rows(f: &Files) -> Vec<Row> {
    let mut out = Vec::new();
    for sub in subcommands(f) {
        let base = |csv: &str| -> Vec<String> {
            let mut a = vec![sub.name.to_string()];
            a.extend(sub.base.iter().map(|x| x.replace("{CSV}", csv)));
            a
        };
        // the plots and gosh need an output
        let output = |a: &mut Vec<String>, opt: &str| {
            if matches!(sub.name, "forest" | "funnel" | "baujat") && opt != "output" {
                a.extend(v(&["-o", "-"]));
            }
            if sub.name == "gosh" && opt != "output" {
                // one file per request: they run in parallel
                let n = GOSH_FILES.fetch_add(1, Ordering::Relaxed);
                let out = f.dir.join(format!("gosh{n}.csv"));
                a.extend(v(&["--output", &out.display().to_string()]));
            }
            if sub.name == "scenarios" && opt != "spec" {
                a.extend(v(&["--spec", &f.spec]));
            }
        };
        // the base request itself answers
        let mut a = base(&sub.csv);
        output(&mut a, "");
        out.push(Row {
            sub: sub.name.into(),
            args: a,
            want: ok(&[sub.ok_marker]),
            max_mb: None,
        });
        for (name, kind) in &sub.options {
            for (value, want) in values(&sub, name, *kind, f) {
                let mut a = base(&sub.csv);
                output(&mut a, name);
                // an option of the base request is attacked in place
                let flag = format!("--{name}");
                match a.iter().position(|x| *x == flag) {
                    Some(i) => a[i + 1] = value.clone(),
                    None => a.extend([flag, value.clone()]),
                }
                let want = refine(sub.name, name, &value, want);
                out.push(Row {
                    sub: sub.name.into(),
                    args: a,
                    want,
                    max_mb: None,
                });
            }
        }
        if sub.files {
            let d = f.dir.display().to_string();
            let hostile: Vec<(String, Want, bool)> = vec![
                (
                    "/nonexistent-dir/in.csv".into(),
                    err(&["/nonexistent-dir/in.csv: cannot", "No such file"]),
                    false,
                ),
                (d.clone(), err(&[&d, "Is a directory"]), false),
                (
                    f.empty.clone(),
                    if sub.name == "scenarios" {
                        err(&["column `study`"])
                    } else {
                        err(&["empty file: no header row"])
                    },
                    false,
                ),
                (
                    f.zero.clone(),
                    if sub.name == "scenarios" {
                        err(&["no studies: the data set is empty"])
                    } else {
                        err(&["empty table: a header but no data rows"])
                    },
                    false,
                ),
                (f.one.clone(), sub.one_row.clone(), false),
                (f.wide.clone(), ok(&[sub.ok_marker]), true),
            ];
            for (csv, want, large) in hostile {
                let mut a = base(&csv);
                output(&mut a, "");
                out.push(Row {
                    sub: sub.name.into(),
                    args: a,
                    want,
                    max_mb: large.then_some(MAX_RSS_WIDE_MB),
                });
            }
        }
    }
    out.extend(special_rows(f));
    out
}

/// Outcomes that differ from the kind's rule for one subcommand's option, with the reason.
fn refine(sub: &str, opt: &str, value: &str, want: Want) -> Want {
    match (sub, opt, value) {
        // a label column may hold any text; the moderator list of permutest must name a
        // column (an empty list is the intercept-only model, which is fine)
        (_, "mods" | "scale", "") => ok(&[]),
        // a step at p = 1 is the last interval's end (metafor allows it)
        ("selmodel", "steps", "1") => ok(&["Selection Model Results"]),
        // mv's sampling and time-lag correlations lie in [-1, 1]; rho = +-1 between
        // effects of different variances is a singular block
        ("mv", "rho" | "phi", "-0.1") => ok(&["Multivariate Meta-Analysis Model"]),
        ("mv", "rho", "1") => err(&["cluster `a`", "not positive definite"]),
        // --tau2 is accepted by clap at any float; fixed tau^2 = 1e6 is a valid answer
        _ => want,
    }
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    hwm_kb: Option<u64>,
    /// From spawn to exit.
    elapsed: std::time::Duration,
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `metan args`; with `watch`, samples the child's peak resident memory until it ends.
fn run(args: &[String], watch: bool) -> Outcome {
    let start = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let pid = child.id();
    // the first sample at once, before the reader threads start
    let mut hwm = if watch { vm_hwm_kb(pid) } else { None };
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        so.read_to_end(&mut b).unwrap();
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        se.read_to_end(&mut b).unwrap();
        b
    });
    let (status, elapsed) = loop {
        if watch {
            if let Some(h) = vm_hwm_kb(pid) {
                hwm = Some(hwm.map_or(h, |m: u64| m.max(h)));
            }
        }
        if let Some(s) = child.try_wait().unwrap() {
            break (s, start.elapsed());
        }
        std::thread::sleep(std::time::Duration::from_millis(if watch { 2 } else { 1 }));
    };
    Outcome {
        code: status.code(),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        hwm_kb: hwm,
        elapsed,
    }
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(300).collect();
    s.replace('\n', "\\n")
}

/// Checks one outcome; returns the problems found.
fn check(row: &Row, o: &Outcome) -> Vec<String> {
    let mut bad = Vec::new();
    let what = format!(
        "metan {}",
        row.args
            .iter()
            .map(|a| short(a).chars().take(60).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    );
    for m in FORBIDDEN {
        if o.stdout.contains(m) || o.stderr.contains(m) {
            bad.push(format!(
                "{what}: output contains {m:?}: {}",
                short(&o.stderr)
            ));
        }
    }
    match &row.want {
        Want::Ok(need) => {
            if o.code != Some(0) {
                bad.push(format!(
                    "{what}: exit {:?}, wanted 0: {}",
                    o.code,
                    short(&o.stderr)
                ));
                return bad;
            }
            for n in need {
                if !o.stdout.contains(n.as_str()) {
                    bad.push(format!("{what}: stdout lacks {n:?}: {}", short(&o.stdout)));
                }
            }
            if let Some(l) = o
                .stderr
                .lines()
                .find(|l| !l.starts_with("metan: warning: "))
            {
                bad.push(format!("{what}: stderr line that is not a warning: {l}"));
            }
        }
        Want::Err(need) | Want::ErrAny(need) => {
            if o.code != Some(1) {
                bad.push(format!(
                    "{what}: exit {:?}, wanted 1: {} | {}",
                    o.code,
                    short(&o.stderr),
                    short(&o.stdout)
                ));
                return bad;
            }
            if !o.stdout.is_empty() {
                bad.push(format!("{what}: stdout on error: {}", short(&o.stdout)));
            }
            let lines = o.stderr.lines().count();
            if lines != 1 || !o.stderr.starts_with("metan: error: ") {
                bad.push(format!(
                    "{what}: {lines} stderr lines, wanted one 'metan: error:' line: {}",
                    short(&o.stderr)
                ));
            }
            let hit = |n: &String| o.stderr.contains(n.as_str());
            let fine = match &row.want {
                Want::Err(_) => need.iter().all(hit),
                _ => need.iter().any(hit),
            };
            if !fine {
                bad.push(format!(
                    "{what}: stderr lacks {need:?}: {}",
                    short(&o.stderr)
                ));
            }
        }
    }
    if let Some(max) = row.max_mb {
        match o.hwm_kb {
            Some(kb) if kb / 1024 < max => {}
            Some(kb) => bad.push(format!("{what}: peak memory {} MB >= {max} MB", kb / 1024)),
            // A request refused before any work can end before the first sample (the
            // child is reaped, /proc has no VmHWM). Within 10 ms it cannot have held the
            // bound: writing 100 MB of fresh pages alone takes longer on this hardware.
            None if o.elapsed < std::time::Duration::from_millis(10) => {}
            None => bad.push(format!("{what}: peak memory not sampled ({:?})", o.elapsed)),
        }
    }
    bad
}

#[derive(Default)]
struct Tally {
    tried: usize,
    exit0: usize,
    exit1: usize,
    other: usize,
    peak_kb: u64,
}

#[test]
fn every_subcommand_survives_bad_requests() {
    let f = files();
    let rows = rows(&f);
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::<String>::new());
    let tally = Mutex::new(BTreeMap::<String, Tally>::new());
    let scanned = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(row) = rows.get(i) else { break };
                    let o = run(&row.args, row.max_mb.is_some());
                    scanned.fetch_add(2, Ordering::Relaxed);
                    let bad = check(row, &o);
                    {
                        let mut t = tally.lock().unwrap();
                        let e = t.entry(row.sub.clone()).or_default();
                        e.tried += 1;
                        match o.code {
                            Some(0) => e.exit0 += 1,
                            Some(1) => e.exit1 += 1,
                            _ => e.other += 1,
                        }
                        e.peak_kb = e.peak_kb.max(o.hwm_kb.unwrap_or(0));
                    }
                    problems.lock().unwrap().extend(bad);
                }
            });
        }
    });
    let tally = tally.into_inner().unwrap();
    println!("subcommand   requests  exit 0  exit 1  other  peak RSS of the large ones");
    let (mut n, mut n0, mut n1) = (0, 0, 0);
    for (sub, t) in &tally {
        println!(
            "{sub:<12} {:>8} {:>7} {:>7} {:>6}  {:.1} MB",
            t.tried,
            t.exit0,
            t.exit1,
            t.other,
            t.peak_kb as f64 / 1024.0
        );
        n += t.tried;
        n0 += t.exit0;
        n1 += t.exit1;
    }
    println!(
        "{n} requests: {n0} exit 0, {n1} exit 1; {} outputs searched for {FORBIDDEN:?}",
        scanned.load(Ordering::Relaxed)
    );
    let problems = problems.into_inner().unwrap();
    for p in &problems {
        println!("PROBLEM {p}");
    }
    assert!(
        problems.is_empty(),
        "{} problems (listed above)",
        problems.len()
    );
    assert_eq!(n, rows.len());
    // every subcommand of `metan --help` is attacked
    let help = run(&v(&["--help"]), false).stdout;
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(listed.len() >= 16, "{listed:?}");
    for c in &listed {
        assert!(tally.contains_key(*c), "subcommand {c} has no bad requests");
    }
    let _ = std::fs::remove_dir_all(&f.dir);
}
