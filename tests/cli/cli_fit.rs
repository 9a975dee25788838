//! `metan fit`: output against the metafor fixture, and every bad input of issue 2 point 6
//! ending in a non-zero exit, one line on stderr naming the file, row and column, nothing
//! on stdout, and no panic.

use std::path::PathBuf;
use std::process::{Command, Output};

fn metan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .expect("runs")
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metan-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Asserts a clean failure and returns the stderr line.
fn clean_error(out: &Output) -> String {
    assert!(!out.status.success(), "exit status {:?}", out.status);
    assert_eq!(out.status.code(), Some(1), "exit code");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    err.trim_end().to_string()
}

fn fit_err(name: &str, content: &[u8], extra: &[&str]) -> String {
    let p = tmp(name, content);
    let mut args = vec!["fit", p.to_str().unwrap()];
    args.extend_from_slice(extra);
    let line = clean_error(&metan(&args));
    assert!(line.contains(p.to_str().unwrap()), "names the file: {line}");
    line
}

#[test]
fn nan_inf_and_text_in_numbers() {
    let l = fit_err("nan.csv", b"yi,vi\n0.1,0.2\nNaN,0.1\n", &[]);
    assert!(
        l.ends_with("row 3: column `yi`: `NaN` is not a finite number (NaN)"),
        "{l}"
    );
    let l = fit_err("inf.csv", b"yi,vi\n0.1,inf\n", &[]);
    assert!(
        l.ends_with("row 2: column `vi`: `inf` is not a finite number (inf)"),
        "{l}"
    );
    let l = fit_err("text.csv", b"yi,vi\n0.1,0.2\n0.3,abc\n", &[]);
    assert!(
        l.ends_with("row 3: column `vi`: `abc` is not a number"),
        "{l}"
    );
}

#[test]
fn negative_or_zero_variance() {
    let l = fit_err("neg.csv", b"yi,vi\n0.1,0.2\n0.3,-0.5\n", &[]);
    assert!(
        l.ends_with("row 3: column `vi`: a sampling variance must be > 0, got -0.5"),
        "{l}"
    );
    let l = fit_err("zero.csv", b"yi,vi\n0.1,0\n", &[]);
    assert!(
        l.ends_with("row 2: column `vi`: a sampling variance must be > 0, got 0"),
        "{l}"
    );
    let l = fit_err("se0.csv", b"yi,sei\n0.1,0\n", &["--sei", "sei"]);
    assert!(
        l.ends_with("row 2: column `sei`: a standard error must be > 0, got 0"),
        "{l}"
    );
}

#[test]
fn missing_column_and_ragged_row() {
    let l = fit_err("nocol.csv", b"yi,var\n0.1,0.2\n", &[]);
    assert!(
        l.ends_with("row 1: column `vi`: column not found; the header has: yi, var"),
        "{l}"
    );
    let l = fit_err("ragged.csv", b"yi,vi\n0.1,0.2\n0.3\n", &[]);
    assert!(
        l.ends_with("row 3: ragged row: 1 fields, expected 2 (as in the header)"),
        "{l}"
    );
}

#[test]
fn empty_tables() {
    let l = fit_err("header.csv", b"yi,vi\n", &[]);
    assert!(l.ends_with("empty table: a header but no data rows"), "{l}");
    let l = fit_err("empty.csv", b"", &[]);
    assert!(l.ends_with("row 1: empty file: no header row"), "{l}");
}

#[test]
fn missing_unreadable_and_binary_files() {
    let out = metan(&["fit", "/nonexistent/metan/none.csv"]);
    let l = clean_error(&out);
    assert!(
        l.starts_with("metan: error: /nonexistent/metan/none.csv: cannot open:"),
        "{l}"
    );
    // a directory cannot be read as a file
    let dir = std::env::temp_dir();
    let l = clean_error(&metan(&["fit", dir.to_str().unwrap()]));
    assert!(l.contains(dir.to_str().unwrap()), "{l}");
    let junk: Vec<u8> = (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fit_err("junk.bin", &junk, &[]);
}

#[test]
fn bad_options_are_clean_errors() {
    let p = tmp("ok.csv", b"yi,vi\n0.1,0.2\n0.5,0.1\n");
    let l = clean_error(&metan(&["fit", p.to_str().unwrap(), "--method", "XYZ"]));
    assert!(l.contains("unknown method `XYZ`"), "{l}");
    let l = clean_error(&metan(&["fit", p.to_str().unwrap(), "--level", "150"]));
    assert!(l.contains("invalid option `level` = 150"), "{l}");
    let l = clean_error(&metan(&["fit", p.to_str().unwrap(), "--tau2", "-1"]));
    assert!(l.contains("invalid option `tau2`"), "{l}");
}

/// The JSON fields named by the issue, compared with the metafor fixture for BCG
/// (REML, knha).
#[test]
fn json_matches_metafor_fixture() {
    let fx: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/core.json")).unwrap();
    let ds = fx["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "bcg_logrr")
        .unwrap();
    let fit = ds["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["method"] == "REML"
                && f["test"] == "knha"
                && f["level"] == 95
                && f["tau2_fixed"].is_null()
        })
        .unwrap();
    let mut csv = String::from("yi,vi\n");
    for (y, v) in ds["yi"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ds["vi"].as_array().unwrap())
    {
        csv.push_str(&format!(
            "{},{}\n",
            y.as_f64().unwrap(),
            v.as_f64().unwrap()
        ));
    }
    let p = tmp("bcg.csv", csv.as_bytes());
    let out = metan(&[
        "fit",
        p.to_str().unwrap(),
        "--method",
        "reml",
        "--test",
        "knha",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for field in [
        "estimate",
        "se",
        "statistic",
        "df",
        "p_value",
        "ci_lower",
        "ci_upper",
        "pi_lower",
        "pi_upper",
        "tau2",
        "tau2_se",
        "tau",
        "i2",
        "h2",
        "q",
        "q_df",
        "q_p_value",
        "tau2_ci_lower",
        "tau2_ci_upper",
        "i2_ci_lower",
        "i2_ci_upper",
        "h2_ci_lower",
        "h2_ci_upper",
    ] {
        let a = fit[field].as_f64().unwrap();
        let b = ours[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field} missing"));
        assert!(
            (a - b).abs() <= 1e-10 * a.abs().max(b.abs()),
            "{field}: {a} vs {b}"
        );
    }
    assert_eq!(ours["k"], 13);
    assert_eq!(ours["method"], "REML");
    assert_eq!(ours["test"], "knha");
    assert_eq!(ours["level"], 95.0);
    assert_eq!(ours["converged"], true);
    assert!(ours["iterations"].as_u64().unwrap() > 0);
    let w: f64 = ours["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!((w - 100.0).abs() < 1e-9);
    // the text output is metafor's print
    let out = metan(&["fit", p.to_str().unwrap(), "--test", "knha"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim_matches('\n'),
        fit["printed"].as_str().unwrap().trim_matches('\n')
    );
}

/// Undefined values are null in JSON (EE has no prediction interval and no tau^2 CI).
#[test]
fn undefined_values_are_null() {
    let p = tmp("ee.csv", b"yi,vi\n0.1,0.2\n0.5,0.1\n0.3,0.05\n");
    let out = metan(&[
        "fit",
        p.to_str().unwrap(),
        "--method",
        "EE",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in [
        "pi_lower",
        "pi_upper",
        "tau2_se",
        "tau2_ci_lower",
        "i2_ci_upper",
        "df",
    ] {
        assert!(v[f].is_null(), "{f} = {}", v[f]);
    }
    assert_eq!(v["tau2"], 0.0);
}
