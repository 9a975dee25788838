//! Hostile requests (issue 20): legal but extreme or malformed requests end in a clean
//! answer or a clean error, never an abort, a Rust `Debug` value or a silent failure.
//!
//! [`bad`] is the table-driven check every bad request goes through: the expected exit
//! code, exactly one line on stderr, nothing on stdout, and none of the markers of an
//! unfinished message (`Some(`, `None`, `{ kind:`, `panicked`, `backtrace`,
//! `RUST_BACKTRACE`). Add a subcommand's bad requests to [`bad_requests`] as rows.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use metan::progress::{Completion, Monitor, Progress};
use metan::sensitivity::Gosh;
use metan::{
    MetaAnalysis, MetaError, MetaRegression, Method, PermutationTest, StopReason, Studies,
};

#[path = "../../examples/shared/run.rs"]
mod run;

const BCG: &str = "tests/fixtures/bcg_rr.csv";

/// What must never appear in a message for people.
const FORBIDDEN: [&str; 6] = [
    "Some(",
    "None",
    "{ kind:",
    "panicked",
    "backtrace",
    "RUST_BACKTRACE",
];

fn metan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .expect("runs")
}

fn tmp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("metan-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn clean_line(text: &str, what: &str) {
    for f in FORBIDDEN {
        assert!(!text.contains(f), "{what} contains {f:?}: {text}");
    }
}

/// Runs `metan args`, asserts the exit code, one stderr line, an empty stdout and no
/// forbidden marker; returns the stderr line.
fn bad(args: &[&str], code: i32) -> String {
    let out = metan(args);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        out.stdout.is_empty(),
        "{args:?}: stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        err.lines().count(),
        1,
        "{args:?}: one line on stderr: {err:?}"
    );
    assert!(err.starts_with("metan: error: "), "{args:?}: {err}");
    clean_line(&err, &format!("{args:?}"));
    err.trim_end().to_string()
}

#[test]
fn bad_requests() {
    let huge = tmp("huge.csv", "yi,vi\n1e308,0.1\n-1e308,0.2\n5e307,0.3\n");
    let rescalable = tmp(
        "resc.csv",
        "yi,vi\n1e100,1e200\n2e100,3e200\n-1e100,1e200\n",
    );
    let tiny_v = tmp("tinyv.csv", "yi,vi\n0.1,1e-310\n0.2,1e-305\n0.3,2e-301\n");
    let wy2 = tmp("wy2.csv", "study,yi,vi\nA,0.1,1\nB,1e70,1e-90\nC,0.3,2\n");
    // (arguments, exit code, what stderr must contain)
    let table: Vec<(Vec<&str>, i32, Vec<&str>)> = vec![
        // the command line itself
        (vec![], 1, vec!["no command given"]),
        (
            vec!["frobnicate"],
            1,
            vec!["unrecognized subcommand 'frobnicate'"],
        ),
        (vec!["permutest"], 1, vec!["required arguments", "<CSV>"]),
        (
            vec!["permutest", BCG, "--iter", "abc"],
            1,
            vec!["invalid value 'abc' for '--iter <ITER>'"],
        ),
        (
            vec!["permutest", BCG, "--itr", "5"],
            1,
            vec![
                "unexpected argument '--itr'",
                "tip: a similar argument exists: '--iter'",
            ],
        ),
        (
            vec!["permutest", BCG, "--iter", "-1"],
            1,
            vec!["invalid value '-1' for '--iter <ITER>'"],
        ),
        (
            vec!["permutest", BCG, "--iter", "1"],
            1,
            vec!["invalid option `iter` = 1"],
        ),
        // exact test implied by --iter but too large to enumerate: names --iter, not --exact
        (
            vec!["permutest", BCG, "--mods", "ablat", "--iter", "1000000000"],
            1,
            vec![
                "invalid option `iter` = 1000000000",
                "389188800 distinct permutations",
            ],
        ),
        (
            vec!["permutest", BCG, "--mods", "ablat", "--exact"],
            1,
            vec!["invalid option `exact` = true", "389188800 permutations"],
        ),
        (vec!["gosh", BCG], 1, vec!["--output"]),
        (
            vec!["gosh", BCG, "--max-subsets", "0", "--output", "/tmp/x.csv"],
            1,
            vec!["max_subsets"],
        ),
        (
            vec!["gosh", BCG, "--output", "/nonexistent-dir/g.csv"],
            1,
            vec!["/nonexistent-dir/g.csv.part: cannot write"],
        ),
        // numerical range (issue 20 point 3)
        (
            vec!["fit", &huge],
            1,
            vec![
                "study 1 (Study 1): invalid `yi` = 1e308",
                "|yi| <= 1e75",
                "no common rescaling",
                "check its yi and vi",
            ],
        ),
        (
            vec!["fit", &rescalable, "--method", "DL"],
            1,
            vec![
                "invalid `yi` = 1e100",
                "divide every yi by c = 1e100 and every vi by c^2",
            ],
        ),
        (
            vec!["fit", &tiny_v],
            1,
            vec!["invalid `vi` = 1e-310", "vi >= 1e-150"],
        ),
        (
            vec!["fit", &wy2, "--slab", "study"],
            1,
            vec![
                "study 2 (B): invalid `yi` = 1e70",
                "|yi|/vi <= 1e150, here 1.000e160",
            ],
        ),
        (vec!["permutest", &huge], 1, vec!["|yi| <= 1e75"]),
        (vec!["leave1out", &huge], 1, vec!["|yi| <= 1e75"]),
        (vec!["cumul", &huge], 1, vec!["|yi| <= 1e75"]),
        (vec!["bias", &huge], 1, vec!["|yi| <= 1e75"]),
        (
            vec!["gosh", &huge, "--output", "/tmp/g.csv"],
            1,
            vec!["|yi| <= 1e75"],
        ),
    ];
    for (args, code, wants) in &table {
        let err = bad(args, *code);
        for w in wants {
            assert!(err.contains(w), "{args:?}: {err:?} lacks {w:?}");
        }
    }
    println!("{} bad requests, each one clean stderr line", table.len());
}

#[test]
fn help_and_version_are_not_errors() {
    for a in [["--help"], ["--version"]] {
        let out = metan(&a);
        assert_eq!(out.status.code(), Some(0), "{a:?}");
        assert!(!out.stdout.is_empty());
    }
}

/// Ctrl-C (SIGINT) ends a 10^9-permutation test cleanly: exit 130, the p-values over the N
/// permutations done printed and marked partial, and one stderr line saying so.
#[test]
fn sigint_stops_a_huge_permutation_test_with_a_partial_result() {
    let child = Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(["permutest", BCG, "--mods", "year", "--iter", "1000000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    clean_line(&stderr, "stderr");
    clean_line(&stdout, "stdout");
    let n: u64 = stderr
        .strip_prefix("metan: interrupted: stopped after ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(n > 0 && n < 1_000_000_000 && n.is_multiple_of(1024), "{n}");
    assert!(
        stdout.contains(&format!(
            "STOPPED after {n} of 1000000000 permutations (interrupted)"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("PARTIAL"));
    println!("stopped after {n} permutations");
}

fn bcg() -> Studies {
    let t = metan::data::csv::Table::from_path(BCG).unwrap();
    Studies::from_variances(
        t.numeric_column("yi").unwrap(),
        t.numeric_column("vi").unwrap(),
    )
    .unwrap()
    .with_moderator("year", t.numeric_column("year").unwrap())
    .unwrap()
}

/// A stopped run's p-values are those of a complete run over the same first N
/// permutations (permutation i always comes from stream i): partial, not approximate
/// in some other way.
#[test]
fn stopped_permutation_test_equals_a_complete_run_of_its_length() {
    let s = bcg();
    let model = MetaRegression::new().method(Method::DL).moderator("year");
    let stop = AtomicBool::new(false);
    let mut reports = Vec::new();
    let mut on = |p: Progress| {
        reports.push(p);
        stop.store(true, Ordering::Relaxed);
    };
    let pt = PermutationTest::new().iter(1_000_000).seed(3);
    let part = pt
        .run_with(
            &model,
            &s,
            Monitor::new().cancel_on(&stop).on_progress(&mut on),
        )
        .unwrap();
    let Completion::Stopped { done, total } = part.completion() else {
        panic!("not stopped: {:?}", part.completion())
    };
    assert_eq!(total, 1_000_000);
    assert_eq!(done, 65_536); // one batch of 64 chunks of 1024
    assert_eq!(part.permutations() as u64, done);
    assert_eq!(reports, vec![Progress { done, total }]);
    let full = PermutationTest::new()
        .iter(done as usize)
        .seed(3)
        .run(&model, &s)
        .unwrap();
    assert_eq!(full.completion(), Completion::Complete);
    assert_eq!(part.p_values().len(), full.p_values().len());
    assert_eq!(part.p_values(), full.p_values());
    assert_eq!(part.qm_p_value(), full.qm_p_value());
    assert!(
        part.to_string()
            .contains("STOPPED after 65536 of 1000000 permutations")
    );
    println!(
        "{} p-values of the stopped run equal the complete run's exactly",
        part.p_values().len() + 1
    );

    // a flag set before the start: a typed error, no result
    let stop = AtomicBool::new(true);
    let e = pt
        .run_with(&model, &s, Monitor::new().cancel_on(&stop))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the permutation test was cancelled before any permutation was complete: nothing to report"
    );
}

/// GOSH: too many stored subsets is an error before any work; streamed, a stopped run has
/// written exactly the first rows of the complete output.
#[test]
fn gosh_memory_cap_and_streamed_prefix() {
    let s = bcg();
    let big = Studies::from_variances(
        [s.yi(), s.yi(), s.yi()].concat(),
        [s.vi(), s.vi(), s.vi()].concat(),
    )
    .unwrap();
    let spec = MetaAnalysis::new().method(Method::DL);
    let start = std::time::Instant::now();
    let e = Gosh::new()
        .max_subsets(1_000_000_000)
        .run(&spec, &big)
        .unwrap_err();
    assert!(
        matches!(&e, MetaError::InvalidOption { option, .. } if option == "max_subsets"),
        "{e}"
    );
    assert!(
        e.to_string().contains("needs 56.0 GB, more than the 1 GiB"),
        "{e}"
    );
    assert!(e.to_string().contains("Gosh::write_csv"), "{e}");
    clean_line(&e.to_string(), "gosh cap");
    assert!(start.elapsed().as_secs() < 60, "refused before the work");

    let stop = AtomicBool::new(false);
    let mut on = |_: Progress| stop.store(true, Ordering::Relaxed);
    let mut text = String::new();
    let sum = Gosh::new()
        .max_subsets(1_000_000)
        .seed(5)
        .write_csv(
            &spec,
            &big,
            Monitor::new().cancel_on(&stop).on_progress(&mut on),
            |t: &str| {
                text.push_str(t);
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(
        sum.completion(),
        Completion::Stopped {
            done: 65_536,
            total: 1_000_000
        }
    );
    assert_eq!(sum.len(), 65_536);
    let full = Gosh::new()
        .max_subsets(65_536)
        .seed(5)
        .run(&spec, &big)
        .unwrap()
        .to_csv();
    assert_eq!(text.lines().count(), 65_537);
    assert!(
        text == full,
        "the stopped stream is the complete output of its length"
    );
    println!(
        "{} streamed rows equal the stored ones",
        text.lines().count() - 1
    );
}

/// Every stop reason reads as a sentence; a failed chain's message carries one.
#[test]
fn stop_reasons_are_sentences() {
    for r in [
        StopReason::ClosedForm,
        StopReason::Fixed,
        StopReason::Tolerance,
        StopReason::Boundary,
        StopReason::RootFound,
        StopReason::MaxIterations,
        StopReason::NonFinite,
    ] {
        let t = r.to_string();
        assert!(
            t.contains(' ') && t.chars().all(|c| !c.is_uppercase()),
            "{t}"
        );
        assert_ne!(t, format!("{r:?}"));
    }
    let e = MetaError::NotConverged {
        method: "REML".into(),
        iterations: 1000,
        reason: StopReason::MaxIterations.to_string(),
    };
    assert_eq!(
        e.to_string(),
        "REML did not converge after 1000 iterations (the iteration limit was reached)"
    );
    let e = MetaError::RankDeficient {
        columns: vec!["a".into(), "b".into()],
    };
    assert_eq!(
        e.to_string(),
        "the model matrix is rank deficient: columns `a`, `b` are collinear with the others"
    );
}

/// The examples' main wrapper prints the error's Display on one line (issue: `digest foo`
/// printed `Error: ParseIntError { kind: InvalidDigit }`).
#[test]
fn examples_print_argument_errors_for_people() {
    let e = run::arg::<u64>(Some("foo"), "seed", "a non-negative integer such as 42").unwrap_err();
    let line = run::message("digest", &e);
    assert_eq!(
        line,
        "digest: error: invalid seed `foo`: expected a non-negative integer such as 42"
    );
    clean_line(&line, "example");
    assert_eq!(run::arg::<u64>(Some("42"), "seed", "").unwrap(), Some(42));
    assert_eq!(run::arg::<u64>(None, "seed", "").unwrap(), None);
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file\nsecond line");
    assert_eq!(run::message("x", &io), "x: error: no such file second line");
}
