//! `--method`, `--test` and `--level` are declared once (`ModelArgs`, `LevelArg` in
//! src/bin/metan/common.rs) and flattened into every subcommand that takes them: a bad value
//! gives the same one-line error, byte for byte, whichever subcommand received it, and a
//! negative level reaches the range check instead of clap's "unexpected argument".

use std::path::PathBuf;
use std::process::{Command, Output};

fn metan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .unwrap()
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metan-cli-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The subcommands with a confidence level, each with arguments that are valid otherwise.
fn commands() -> Vec<Vec<String>> {
    let effects = tmp(
        "effects.csv",
        b"yi,vi,x,g\n0.1,0.2,1,a\n0.5,0.1,2,b\n0.3,0.05,3,a\n0.7,0.08,4,b\n",
    );
    let tables = tmp("tables.csv", b"ai,bi,ci,di\n1,10,2,10\n3,20,5,20\n");
    let e = effects.to_str().unwrap().to_string();
    let t = tables.to_str().unwrap().to_string();
    let g = effects
        .with_extension("gosh.csv")
        .to_str()
        .unwrap()
        .to_string();
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["fit", &e]),
        v(&["fit", &e, "--mods", "x"]),
        v(&["bias", &e]),
        v(&["leave1out", &e]),
        v(&["cumul", &e]),
        v(&["influence", &e]),
        v(&["subgroup", &e, "--by", "g"]),
        v(&["permutest", &e, "--mods", "x"]),
        v(&["forest", &e, "-o", "-"]),
        v(&["funnel", &e, "-o", "-"]),
        v(&["baujat", &e, "-o", "-"]),
        v(&["gosh", &e, "--output", &g]),
        v(&["mh", &t]),
        v(&["peto", &t]),
        v(&["selmodel", &e, "--type", "stepfun", "--steps", "0.025"]),
    ]
}

#[test]
fn every_bad_level_gives_the_same_error() {
    let mut checked = 0;
    for level in ["150", "-5", "0", "100", "NaN"] {
        let want = format!(
            "metan: error: invalid option `level` = {level}: must be in (0, 100) percent\n"
        );
        for cmd in commands() {
            let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
            args.extend(["--level", level]);
            let out = metan(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert!(out.stdout.is_empty(), "{args:?}");
            assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{args:?}");
            checked += 1;
        }
    }
    println!("{checked} bad --level requests, one message each");
    assert_eq!(checked, 5 * commands().len());
}

#[test]
fn a_good_level_is_accepted_everywhere() {
    for cmd in commands() {
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        args.extend(["--level", "90"]);
        let out = metan(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn bad_method_and_test_give_the_same_error() {
    for cmd in commands()
        .into_iter()
        .filter(|c| !matches!(c[0].as_str(), "mh" | "peto" | "selmodel"))
    {
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        args.extend(["--method", "XYZ"]);
        let out = metan(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("unknown method `XYZ`"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        args.extend(["--test", "w"]);
        let out = metan(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }
}
