//! `metan scenarios data/ipv_simulated_long.csv --spec data/digest_scenarios.toml`: the
//! digest's sensitivity tables from the command line, on the shipped SIMULATED data, give
//! the numbers of `examples/digest.rs` (the same scenarios of `examples/shared/findings.rs`),
//! bit for bit.

#[path = "../../examples/shared/mod.rs"]
mod shared;

use std::process::Command;

use metan::datasets::ipv;
use metan::sensitivity::ScenarioResult;
use serde_json::Value;
use shared::findings;

const CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/ipv_simulated_long.csv");
const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digest_scenarios.toml");

fn metan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// A row of the CLI's JSON equals a scenario result of the example: k, estimate, SE, CI,
/// p-value, tau^2 and the studies used, exactly.
fn same(cli: &Value, ex: &ScenarioResult) -> usize {
    assert_eq!(cli["k"].as_u64().unwrap() as usize, ex.k, "{}", ex.name);
    let pairs = [
        (num(&cli["estimate"]), ex.estimate),
        (num(&cli["se"]), ex.se),
        (num(&cli["ci_lower"]), ex.ci_lower),
        (num(&cli["ci_upper"]), ex.ci_upper),
        (num(&cli["p_value"]), ex.p_value),
        (num(&cli["tau2"]), ex.tau2),
    ];
    for (a, b) in pairs {
        assert!(
            a == b || (a.is_nan() && b.is_nan()),
            "{}: {a} vs {b}",
            ex.name
        );
    }
    let used: Vec<&str> = cli["used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["study"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = ex.used.iter().map(|u| u.study.as_str()).collect();
    assert_eq!(used, want, "{}", ex.name);
    pairs.len()
}

#[test]
fn digest_scenarios_from_the_command_line() {
    let out = metan(&["scenarios", CSV, "--spec", SPEC]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Sensitivity analysis (SIMULATED data: "));
    assert!(text.contains("1 official records, RCTs"));
    assert!(
        text.contains(
            "Studies without a comparison group (counted, never pooled as an effect): 15"
        )
    );
    assert!(text.trim_end().ends_with("seed 20191003))"));

    let out = metan(&["scenarios", CSV, "--spec", SPEC, "--format", "json"]);
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["simulated"], true);
    let rows: Vec<&Value> = std::iter::once(&json["base"])
        .chain(json["scenarios"].as_array().unwrap())
        .collect();
    let row = |name: &str| {
        *rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no row {name}"))
    };

    // the example's scenarios on the same (SIMULATED) data set
    let (_, data) = findings::simulated(ipv::DEFAULT_SEED).unwrap();
    let run = |s: Vec<metan::sensitivity::Scenario>| findings::run(&data, &s).unwrap();
    let f1 = run(findings::finding1());
    let f3 = run(findings::finding3());
    let f4 = run(findings::finding4());
    let f4d = run(findings::finding4_dropouts());
    let f5 = run(findings::finding5());
    let f7 = run(findings::finding7());
    let f8 = run(findings::finding8());
    let pairs = [
        (
            "1-3 Duluth, CBT vs no programme: official, all designs",
            &f3[0],
        ),
        ("1 official records, RCTs", &f1[0]),
        ("1 partner reports, RCTs", &f1[1]),
        (
            "1 official records, RCTs and sound quasi-experiments",
            &f1[2],
        ),
        (
            "1 partner reports, RCTs and sound quasi-experiments",
            &f1[3],
        ),
        ("3 flawed studies dropped", &f3[1]),
        ("3 RCTs only", &f3[2]),
        ("3 flawed studies only", &f3[3]),
        ("4 all programmes, sound designs, as reported", &f4[0]),
        ("4 the same, completers only", &f4[1]),
        ("4 the same, drop-outs' odds x2 (IMOR 2)", &f4[2]),
        ("4 the same, every drop-out re-offends", &f4[4]),
        (
            "4 completers vs drop-outs (NOT a programme effect)",
            &f4d[0],
        ),
        ("5 Duluth, sound designs", &f5[0]),
        ("5 CBT, sound designs", &f5[1]),
        ("7 couples vs standard programme", &f7[0]),
        ("8 high income", &f8[0]),
        ("8 middle or low income", &f8[1]),
    ];
    let mut compared = 0;
    for (name, ex) in pairs {
        compared += same(row(name), ex);
    }
    assert_eq!(row("8 middle or low income")["k"], 0);
    println!(
        "{} rows, {compared} numbers: the CLI equals the example exactly",
        pairs.len()
    );
}

/// A spec whose scenario mixes comparisons fails with one line on stderr naming it.
#[test]
fn a_scenario_mixing_comparisons_is_refused() {
    let spec = std::env::temp_dir().join(format!("metan-mixed-{}.toml", std::process::id()));
    std::fs::write(
        &spec,
        "[base]\nname = \"every study\"\nsources = [\"official\"]\n",
    )
    .unwrap();
    let out = metan(&["scenarios", CSV, "--spec", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("scenario `every study` pools different comparisons (couples_vs_standard_programme, programme_vs_no_programme, completers_vs_dropouts)"),
        "{err}"
    );
    std::fs::write(
        &spec,
        "[base]\nname = \"every study\"\nsources = [\"official\"]\nmix_comparisons = true\n",
    )
    .unwrap();
    assert!(
        metan(&["scenarios", CSV, "--spec", spec.to_str().unwrap()])
            .status
            .success()
    );
}
