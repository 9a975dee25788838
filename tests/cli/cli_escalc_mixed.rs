//! `metan escalc` for the measures of issue 18 and for mixed outcome types (a `measure`
//! column, `--convert-to d|logor`), checked against `tests/fixtures/escalc_conversions.json`
//! (written by `tests/fixtures/generate_escalc_conversions.R` with metafor 3.8-1); and its
//! errors on bad input: exit status 1 and one line on stderr naming the row and field.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/escalc_conversions.json"))
        .expect("escalc_conversions.json parses")
}

fn find<'a>(fx: &'a Value, section: &str, name: &str) -> &'a Value {
    fx[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no fixture {section}/{name}"))
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("metan-cli-escalc-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A CSV with a label column, an optional text column and numeric columns (NA -> empty).
fn write_csv(
    file: &str,
    text: Option<(&str, Vec<String>)>,
    cols: &serde_json::Map<String, Value>,
    rename: &[(&str, &str)],
) -> PathBuf {
    let names: Vec<&String> = cols.keys().collect();
    let k = cols[names[0].as_str()].as_array().unwrap().len();
    let shown = |n: &str| {
        rename
            .iter()
            .find(|(from, _)| *from == n)
            .map_or(n.to_string(), |(_, to)| to.to_string())
    };
    let mut header = vec!["study".to_string()];
    if let Some((t, _)) = &text {
        header.push(t.to_string());
    }
    header.extend(names.iter().map(|n| shown(n)));
    let mut out = header.join(",") + "\n";
    for i in 0..k {
        let mut row = vec![format!("S{}", i + 1)];
        if let Some((_, v)) = &text {
            row.push(v[i].clone());
        }
        for n in &names {
            row.push(
                cols[n.as_str()][i]
                    .as_f64()
                    .map_or(String::new(), |x| format!("{x:?}")),
            );
        }
        out += &(row.join(",") + "\n");
    }
    let path = dir().join(file);
    std::fs::write(&path, out).unwrap();
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

fn rel(o: f64, t: f64) -> f64 {
    if o == t {
        0.0
    } else {
        (o - t).abs() / o.abs().max(t.abs())
    }
}

/// Compares the JSON rows' yi and vi with the fixture's; returns (count, worst).
fn compare(rows: &[Value], yi: &Value, vi: &Value, what: &str) -> (usize, f64) {
    let (yi, vi) = (yi.as_array().unwrap(), vi.as_array().unwrap());
    assert_eq!(rows.len(), yi.len(), "{what}: rows");
    let mut n = 0;
    let mut worst: f64 = 0.0;
    for (i, r) in rows.iter().enumerate() {
        for (f, theirs) in [("yi", &yi[i]), ("vi", &vi[i])] {
            match (r[f].as_f64(), theirs.as_f64()) {
                (None, None) => {}
                (Some(o), Some(t)) => {
                    let e = rel(o, t);
                    assert!(e <= REL, "{what} {f}[{i}]: {o} vs metafor {t}");
                    worst = worst.max(e);
                    n += 1;
                }
                (o, t) => panic!("{what} {f}[{i}]: {o:?} vs metafor {t:?}"),
            }
        }
    }
    (n, worst)
}

#[test]
fn mixed_outcome_tables_match_metafor() {
    let fx = fixture();
    let mut total = 0;
    let mut worst: f64 = 0.0;
    for case in fx["mixed"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let measures: Vec<String> = case["measure"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_string())
            .collect();
        let path = write_csv(
            &format!("{name}.csv"),
            Some(("outcome", measures)),
            case["columns"].as_object().unwrap(),
            &[],
        );
        let p = path.to_str().unwrap();
        let mut args = vec!["escalc", p, "--measure-column", "outcome"];
        if let Some(t) = case["target"].as_str() {
            args.extend(["--convert-to", t]);
        }
        if let Some(m) = case["method"].as_str() {
            args.extend(["--conversion-method", m]);
        }
        let mut json_args = args.clone();
        json_args.extend(["--format", "json"]);
        let (ok, out, err) = metan(&json_args);
        assert!(ok, "{name}: {err}");
        let rows: Value = serde_json::from_str(&out).unwrap();
        let rows = rows.as_array().unwrap();
        let (n, w) = compare(rows, &case["yi"], &case["vi"], name);
        total += n;
        worst = worst.max(w);
        // the output marks the converted rows and how
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(
                r["converted_from"].as_str(),
                case["converted_from"][i].as_str(),
                "{name}[{i}]"
            );
            assert_eq!(
                r["conversion"].is_string(),
                r["converted_from"].is_string(),
                "{name}[{i}]"
            );
            assert_eq!(r["outcome"], case["measure"][i]);
        }
        // and the CSV output carries the same marks
        let (ok, out, _) = metan(&args);
        assert!(ok);
        let mut rdr = csv::Reader::from_reader(out.as_bytes());
        let h: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            &h[h.len() - 4..],
            ["yi", "vi", "converted_from", "conversion"]
        );
        assert_eq!(rdr.records().count(), rows.len());
    }
    eprintln!("mixed escalc CLI: {total} values, max rel error {worst:.3e}");
    assert!(total >= 150);
}

#[test]
fn new_measures_from_the_cli_match_metafor() {
    let fx = fixture();
    let mut total = 0;
    let mut worst: f64 = 0.0;
    for (name, measure, extra, rename) in [
        ("morris2008_treatment_SMCR_LS", "SMCR", vec![], vec![]),
        ("morris2008_control_SMCR_no_sd2i", "SMCR", vec![], vec![]),
        (
            "lehmann2018_within_SMCC_LS2",
            "SMCC",
            vec!["--vtype", "LS2"],
            vec![],
        ),
        ("prepost_syn_SMCRH_LS", "SMCRH", vec![], vec![]),
        ("morris2008_control_ROMC_LS", "ROMC", vec![], vec![]),
        (
            "aloe2013_SPCOR_AV",
            "SPCOR",
            vec!["--vtype", "AV", "--tval", "ti"],
            vec![],
        ),
        ("lm_datasets_PCOR_LS", "PCOR", vec![], vec![("ti", "tval")]),
        (
            "normand_t_SMD_UB",
            "SMD",
            vec!["--vtype", "UB"],
            vec![("ti", "tval")],
        ),
        ("gibson2002_p_D2ORL", "D2ORL", vec!["--pval", "pi"], vec![]),
        ("d_syn_SMD_LS", "SMD", vec![], vec![("di", "dval")]),
        ("bcg_PBIT", "PBIT", vec![], vec![]),
        ("nielweise2007_OR2DN", "OR2DN", vec![], vec![]),
        ("curtis_D2ORN", "D2ORN", vec![], vec![]),
    ] {
        let c = find(&fx, "escalc", name);
        let path = write_csv(
            &format!("{name}.csv"),
            None,
            c["input"].as_object().unwrap(),
            &rename,
        );
        let mut args = vec![
            "escalc",
            path.to_str().unwrap(),
            "--measure",
            measure,
            "--format",
            "json",
        ];
        args.extend(extra.iter().copied());
        let (ok, out, err) = metan(&args);
        assert!(ok, "{name}: {err}");
        let rows: Value = serde_json::from_str(&out).unwrap();
        let (n, w) = compare(rows.as_array().unwrap(), &c["yi"], &c["vi"], name);
        total += n;
        worst = worst.max(w);
    }
    eprintln!("new measures via CLI: {total} values, max rel error {worst:.3e}");
    assert!(total >= 100);
}

#[test]
fn fit_takes_the_new_measures() {
    let fx = fixture();
    let c = find(&fx, "escalc", "morris2008_treatment_SMCR_LS");
    let path = write_csv("fit-smcr.csv", None, c["input"].as_object().unwrap(), &[]);
    let (ok, out, err) = metan(&[
        "fit",
        path.to_str().unwrap(),
        "--measure",
        "SMCR",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["measure"], "SMCR");
    assert_eq!(j["k"], 5);
}

/// Each bad input: exit 1, one stderr line, containing `expect`.
#[test]
fn bad_input_is_one_line_naming_row_and_field() {
    let base = "study,measure,ai,bi,ci,di,m1i,sd1i,n1i,m2i,sd2i,n2i,tval,pval,direction,ni,ri,estimate,ci_lb,ci_ub\n\
                A,OR,12,88,20,80,,,,,,,,,,,,,,\n\
                B,SMD,,,,,8.1,5,60,10.2,5.5,58,,,,,,,,\n\
                C,SMD,,,,,,,25,,,27,-2.2,,,,,,,\n\
                D,SMD,,,,,,,40,,,38,,0.03,-,,,,,\n\
                E,SMCR,,,,,7,6,,9.5,,,,,,40,0.6,,,\n\
                F,COR,,,,,,,,,,,,,,85,-0.32,,,\n\
                G,OR,,,,,,,,,,,,,,,,0.7,0.45,1.09\n";
    let path = dir().join("ok.csv");
    std::fs::write(&path, base).unwrap();
    let (ok, _, err) = metan(&["escalc", path.to_str().unwrap(), "--convert-to", "d"]);
    assert!(ok, "{err}");
    for (file, from, to, extra, expect) in [
        (
            "unknown.csv",
            "B,SMD",
            "B,SMX",
            vec![],
            "study 2 (B): invalid `measure` = `SMX`: unknown measure",
        ),
        (
            "r.csv",
            "40,0.6,",
            "40,1.2,",
            vec![],
            "study 5 (E): invalid `ri` = 1.2: the correlation between the two occasions must be in (-1, 1)",
        ),
        (
            "r1.csv",
            "40,0.6,",
            "40,-1,",
            vec![],
            "study 5 (E): invalid `ri` = -1",
        ),
        (
            "p0.csv",
            ",0.03,-,",
            ",0,-,",
            vec![],
            "study 4 (D): invalid `pval` = 0: a two-sided p-value must be in (0, 1)",
        ),
        (
            "p1.csv",
            ",0.03,-,",
            ",1,-,",
            vec![],
            "study 4 (D): invalid `pval` = 1",
        ),
        (
            "dir.csv",
            "-2.2,,,",
            "-2.2,,positive,",
            vec![],
            "study 3 (C): invalid `tval` = -2.2: its sign contradicts the stated direction (positive)",
        ),
        (
            "ci.csv",
            "0.7,0.45,1.09",
            "1.7,0.45,1.09",
            vec![],
            "study 7 (G): invalid `estimate` = 1.7: the confidence interval (0.45, 1.09) does not contain the estimate",
        ),
        (
            "asym.csv",
            "0.7,0.45,1.09",
            "0.7,0.2,1.09",
            vec![],
            "study 7 (G): invalid `estimate` = 0.7: not halfway between (0.2, 1.09) on the log scale",
        ),
        (
            "rr.csv",
            "A,OR",
            "A,RR",
            vec!["--convert-to", "d"],
            "study 1 (A): invalid `measure` = RR: no conversion from RR (logRR) to d",
        ),
        (
            "md.csv",
            "B,SMD",
            "B,MD",
            vec!["--convert-to", "logor"],
            "study 2 (B): invalid `measure` = MD: MD is on no scale metan converts from",
        ),
        (
            "miss.csv",
            "E,SMCR,,,,,7,6",
            "E,SMCR,,,,,,6",
            vec![],
            "study 5 (E): invalid `m1i` = NA: measure SMCR needs `m1i` in this row",
        ),
        (
            "kind.csv",
            "F,COR",
            "F,PBIT",
            vec![],
            "study 6 (F): invalid `ai` = NA: measure PBIT needs `ai` in this row",
        ),
    ] {
        assert!(base.contains(from), "{file}: {from}");
        let path = dir().join(file);
        std::fs::write(&path, base.replacen(from, to, 1)).unwrap();
        let mut args = vec!["escalc", path.to_str().unwrap(), "--slab", "study"];
        args.extend(extra.iter().copied());
        let (ok, out, err) = metan(&args);
        assert!(!ok, "{file}: {out}");
        assert_eq!(err.lines().count(), 1, "{file}: {err}");
        assert!(
            err.starts_with("metan: error: ") && err.contains(expect),
            "{file}: {err}"
        );
    }
    // a --convert-to that is no common scale, and no measure at all
    let (ok, _, err) = metan(&["escalc", path.to_str().unwrap(), "--convert-to", "z"]);
    assert!(!ok && err.lines().count() == 1 && err.contains("must be d or logor"));
    let nomeasure = dir().join("nomeasure.csv");
    std::fs::write(&nomeasure, "ai,bi,ci,di\n1,2,3,4\n").unwrap();
    let (ok, _, err) = metan(&["escalc", nomeasure.to_str().unwrap()]);
    assert!(!ok && err.lines().count() == 1, "{err}");
    assert!(err.contains("column `measure`"), "{err}");
}
