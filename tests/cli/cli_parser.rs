//! Property tests of the command line (issue 20, item 5): random values for random options
//! of every subcommand.
//!
//! * In-process, on clap's parser (the binary's `Cli`, included from `src/bin/metan/main.rs`):
//!   parsing never panics, and every rejected command line renders as one line
//!   `metan: error: ...` without a Rust `Debug` marker.
//! * Through the binary, for a smaller number of cases: the run ends in exit 0, or exit 1
//!   with exactly one stderr line; never a panic, an abort or a `Debug` marker.
//!
//! The options are read from clap's own description of the commands, so subcommands and
//! options added later are covered without editing this file.
#![cfg(feature = "cli")]
#![allow(dead_code)]

use crate::metan_bin;
use clap::{CommandFactory, Parser};
use proptest::prelude::*;

const FORBIDDEN: [&str; 6] = [
    "Some(",
    "None",
    "{ kind:",
    "panicked",
    "backtrace",
    "RUST_BACKTRACE",
];

/// Every subcommand with its options: (long name, takes a value).
fn commands() -> Vec<(String, Vec<(String, bool)>)> {
    let cli = metan_bin::Cli::command();
    cli.get_subcommands()
        .map(|s| {
            let opts = s
                .get_arguments()
                .filter_map(|a| {
                    let long = a.get_long()?.to_string();
                    let takes = a.get_action().takes_values();
                    Some((long, takes))
                })
                .filter(|(l, _)| l != "help")
                .collect();
            (s.get_name().to_string(), opts)
        })
        .collect()
}

/// Hostile values: numbers at and beyond every limit, malformed text, any text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e308".to_string()),
        Just("1e-320".to_string()),
        Just(u64::MAX.to_string()),
        Just("18446744073709551616".to_string()),
        Just(String::new()),
        Just("abc".to_string()),
        Just("--".to_string()),
        Just("-".to_string()),
        Just("a=b".to_string()),
        Just("1,2,,3".to_string()),
        any::<i64>().prop_map(|x| x.to_string()),
        any::<f64>().prop_map(|x| x.to_string()),
        any::<u8>().prop_map(|x| x.to_string()),
        (0.0..100.0f64).prop_map(|x| x.to_string()),
        "\\PC{0,12}",
        "[a-z_]{1,8}",
    ]
}

/// A command line: a subcommand, a positional file, and up to 4 options with values
/// (an option that takes none may still get one, as users type).
fn command_line() -> impl Strategy<Value = Vec<String>> {
    let cmds = commands();
    let n = cmds.len();
    (
        0..n,
        prop_oneof![
            Just("tests/fixtures/bcg_rr.csv".to_string()),
            Just("data/bcg.csv".to_string()),
            Just("/nonexistent/x.csv".to_string()),
            "\\PC{0,6}",
        ],
        proptest::collection::vec((any::<prop::sample::Index>(), value(), any::<bool>()), 0..5),
    )
        .prop_map(move |(c, csv, opts)| {
            let (name, options) = &cmds[c];
            let mut args = vec!["metan".to_string(), name.clone(), csv];
            for (i, v, with_value) in opts {
                if options.is_empty() {
                    break;
                }
                let (long, takes) = &options[i.index(options.len())];
                args.push(format!("--{long}"));
                if *takes || with_value {
                    args.push(v);
                }
            }
            args
        })
}

fn clean(line: &str, input: &[String]) -> Result<(), TestCaseError> {
    for m in FORBIDDEN {
        // a marker the user typed may be quoted back
        if !input.iter().any(|a| a.contains(m)) {
            prop_assert!(!line.contains(m), "{m:?} in {line:?} for {input:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// clap never panics on a command line, and every error renders as one clean line.
    #[test]
    fn parser_errors_are_one_clean_line(args in command_line()) {
        match metan_bin::Cli::try_parse_from(&args) {
            Ok(_) => {}
            Err(e) if !e.use_stderr() => {
                // --help / --version: text on stdout, exit 0
                prop_assert!(!e.render().to_string().is_empty());
            }
            Err(e) => {
                let line = metan_bin::usage_error(&e);
                prop_assert!(!line.contains('\n'), "{line:?} for {args:?}");
                prop_assert!(line.starts_with("metan: error: "), "{line}");
                clean(&line, &args)?;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The binary on random option values: exit 0, or exit 1 with one stderr line.
    #[test]
    fn binary_exits_0_or_1_with_one_line(args in command_line()) {
        let dir = std::env::temp_dir().join(format!("metan-parser-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // outputs go to the temporary directory, never into the source tree
        let mut args = args;
        for i in 1..args.len() {
            if matches!(args[i - 1].as_str(), "--output" | "-o") {
                let name: String = args[i].chars().filter(char::is_ascii_alphanumeric).collect();
                args[i] = dir.join(format!("o{name}")).display().to_string();
            }
        }
        // long runs are cut short: no more than 200 permutations or subsets
        for i in 1..args.len() {
            if matches!(args[i - 1].as_str(), "--iter" | "--max-subsets")
                && args[i].parse::<u64>().is_ok_and(|n| n > 200)
            {
                args[i] = "200".into();
            }
        }
        if args[1] == "permutest" && !args.iter().any(|a| a == "--iter") {
            args.extend(["--iter".to_string(), "100".to_string()]);
        }
        if args[1] == "gosh" && !args.iter().any(|a| a == "--max-subsets") {
            args.extend(["--max-subsets".to_string(), "100".to_string()]);
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_metan"))
            .args(&args[1..])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match out.status.code() {
            Some(0) => {
                for l in stderr.lines() {
                    prop_assert!(l.starts_with("metan: warning: "), "{l} for {args:?}");
                }
            }
            Some(1) => {
                prop_assert_eq!(stderr.lines().count(), 1, "{:?} for {:?}", stderr, args);
                prop_assert!(stderr.starts_with("metan: error: "), "{}", stderr);
            }
            c => prop_assert!(false, "exit {c:?} for {args:?}: {stderr}"),
        }
        clean(&stderr, &args)?;
    }
}
