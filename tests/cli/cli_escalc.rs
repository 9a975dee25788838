//! The `metan escalc`, `metan mh`, `metan peto` and `metan fit --measure` commands,
//! checked against the metafor fixtures of `tests/fixtures/escalc.json`: the CLI is run
//! on CSV files written from the fixtures' raw data.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/escalc.json")).expect("escalc.json parses")
}

fn case<'a>(fx: &'a Value, section: &str, name: &str) -> &'a Value {
    fx[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no fixture {section}/{name}"))
}

/// Writes the fixture's input columns (plus a label column) to a CSV file.
fn write_csv(input: &Value, file: &str) -> PathBuf {
    let names: Vec<&String> = input.as_object().unwrap().keys().collect();
    let cols: Vec<Vec<f64>> = names
        .iter()
        .map(|n| {
            input[n.as_str()]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let mut text = format!(
        "study,{}\n",
        names
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    for i in 0..cols[0].len() {
        let row: Vec<String> = cols.iter().map(|c| format!("{:?}", c[i])).collect();
        text += &format!("\"Study, no. {}\",{}\n", i + 1, row.join(","));
    }
    let dir = std::env::temp_dir().join(format!("metan-cli-escalc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

fn metan(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .expect("runs metan");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn close(ours: Option<f64>, theirs: Option<f64>, what: &str) {
    match (ours, theirs) {
        (None, None) => {}
        (Some(o), Some(t)) => {
            let e = if o == t {
                0.0
            } else {
                (o - t).abs() / o.abs().max(t.abs())
            };
            assert!(e <= REL, "{what}: {o} vs metafor {t}");
        }
        _ => panic!("{what}: {ours:?} vs metafor {theirs:?}"),
    }
}

#[test]
fn escalc_json_and_csv_match_metafor() {
    let fx = fixture();
    for (name, measure, extra) in [
        ("landenberger_OR", "OR", vec![]),
        ("landenberger_n_RR", "RR", vec![]),
        (
            "zero_PETO_to=if0all_add=0.25_drop00=TRUE",
            "PETO",
            vec!["--to", "if0all", "--add", "0.25", "--drop00", "true"],
        ),
        (
            "zero_OR_to=none_add=default_drop00=FALSE",
            "OR",
            vec!["--to", "none"],
        ),
        ("normand_SMD_UB", "SMD", vec!["--vtype", "UB"]),
        ("normand_MD_HO", "MD", vec!["--vtype", "HO"]),
        ("molloy_ZCOR", "ZCOR", vec![]),
        ("pritz_PFT_LS", "PFT", vec![]),
        ("hart_IRR", "IRR", vec![]),
        ("hart_IR", "IR", vec![]),
    ] {
        let c = case(&fx, "escalc", name);
        let path = write_csv(&c["input"], &format!("{measure}-{}.csv", name.len()));
        let p = path.to_str().unwrap();
        let mut args = vec!["escalc", p, "--measure", measure];
        args.extend(extra.iter().copied());
        let mut json_args = args.clone();
        json_args.extend(["--format", "json"]);
        let (ok, out, err) = metan(&json_args);
        assert!(ok, "{name}: {err}");
        let rows: Value = serde_json::from_str(&out).unwrap();
        let rows = rows.as_array().unwrap();
        let yi = c["yi"].as_array().unwrap();
        let vi = c["vi"].as_array().unwrap();
        assert_eq!(rows.len(), yi.len());
        for (i, r) in rows.iter().enumerate() {
            close(
                r["yi"].as_f64(),
                yi[i].as_f64(),
                &format!("{name} json yi[{i}]"),
            );
            close(
                r["vi"].as_f64(),
                vi[i].as_f64(),
                &format!("{name} json vi[{i}]"),
            );
            assert_eq!(r["study"], format!("Study, no. {}", i + 1));
        }
        // CSV: the input columns plus yi and vi, 17 significant digits, NA for missing
        let (ok, out, err) = metan(&args);
        assert!(ok, "{name}: {err}");
        let mut rdr = csv::Reader::from_reader(out.as_bytes());
        let h: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(&h[h.len() - 2..], ["yi", "vi"]);
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.unwrap();
            let parse = |s: &str| (s != "NA").then(|| s.parse::<f64>().unwrap());
            let y = parse(&rec[h.len() - 2]);
            let v = parse(&rec[h.len() - 1]);
            // 17 significant digits round-trip exactly to the JSON value
            assert_eq!(y, rows[i]["yi"].as_f64(), "{name} csv yi[{i}]");
            assert_eq!(v, rows[i]["vi"].as_f64(), "{name} csv vi[{i}]");
        }
    }
}

#[test]
fn mh_and_peto_json_match_metafor() {
    let fx = fixture();
    for (name, cmd) in [
        ("bcg_OR", vec!["mh", "--measure", "OR"]),
        ("landenberger_RR", vec!["mh", "--measure", "RR"]),
        ("landenberger_RD", vec!["mh", "--measure", "rd"]),
        (
            "zero_OR_correct=FALSE_level=90",
            vec!["mh", "--correct", "false", "--level", "90"],
        ),
    ] {
        let c = case(&fx, "mh", name);
        let path = write_csv(&c["input"], &format!("mh-{}.csv", name.len()));
        let mut args = cmd.clone();
        args.extend([path.to_str().unwrap(), "--format", "json"]);
        let (ok, out, err) = metan(&args);
        assert!(ok, "{name}: {err}");
        let j: Value = serde_json::from_str(&out).unwrap();
        for f in [
            "estimate",
            "se",
            "statistic",
            "p_value",
            "ci_lower",
            "ci_upper",
            "q",
            "q_p_value",
            "i2",
            "h2",
            "cmh",
            "cmh_p_value",
            "tarone",
            "tarone_p_value",
        ] {
            close(j[f].as_f64(), c[f].as_f64(), &format!("{name} {f}"));
        }
        assert_eq!(j["q_df"].as_f64(), Some(c["k_yi"].as_f64().unwrap() - 1.0));
        // and the text output is metafor's printout
        let mut args = cmd.clone();
        args.push(path.to_str().unwrap());
        let (ok, out, _) = metan(&args);
        assert!(ok);
        assert_eq!(
            out,
            format!("{}\n", c["printed"].as_str().unwrap()),
            "{name}"
        );
    }
    let c = case(&fx, "peto", "landenberger_PETO");
    let path = write_csv(&c["input"], "peto.csv");
    let (ok, out, err) = metan(&["peto", path.to_str().unwrap(), "--format", "json"]);
    assert!(ok, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    for f in [
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "q",
        "q_p_value",
        "i2",
        "h2",
    ] {
        close(j[f].as_f64(), c[f].as_f64(), &format!("peto {f}"));
    }
    close(
        j["back_transformed"]["estimate"].as_f64().map(f64::ln),
        c["estimate"].as_f64(),
        "peto OR",
    );
}

#[test]
fn fit_with_measure_back_transforms() {
    let fx = fixture();
    let pred = case(&fx, "predict", "landenberger_OR_exp");
    let c = case(&fx, "escalc", "landenberger_OR");
    let path = write_csv(&c["input"], "fit.csv");
    let (ok, out, err) = metan(&[
        "fit",
        path.to_str().unwrap(),
        "--measure",
        "OR",
        "--slab",
        "study",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["measure"], "OR");
    let bt = &j["back_transformed"];
    assert_eq!(bt["transform"], "Exp");
    for (ours, theirs) in [
        ("estimate", "pred"),
        ("ci_lower", "ci_lower"),
        ("ci_upper", "ci_upper"),
        ("pi_lower", "pi_lower"),
        ("pi_upper", "pi_upper"),
    ] {
        close(bt[ours].as_f64(), pred[theirs].as_f64(), ours);
    }
    let (ok, out, _) = metan(&["fit", path.to_str().unwrap(), "--measure", "OR"]);
    assert!(ok);
    assert!(out.contains("Model Results (OR scale):"), "{out}");
}

#[test]
fn bad_raw_data_names_study_and_field() {
    let dir = std::env::temp_dir().join(format!("metan-cli-escalc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.csv");
    std::fs::write(&path, "study,ai,n1i,ci,n2i\nA,3,10,4,10\nB,12,10,4,10\n").unwrap();
    let (ok, _, err) = metan(&[
        "escalc",
        path.to_str().unwrap(),
        "--measure",
        "OR",
        "--slab",
        "study",
    ]);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "metan: error: study 2 (B): invalid `ai` = 12: events exceed the group size n1i = 10"
    );
    let (ok, _, err) = metan(&["escalc", path.to_str().unwrap(), "--measure", "XYZ"]);
    assert!(!ok);
    assert!(err.contains("unknown measure `XYZ`"), "{err}");
}
