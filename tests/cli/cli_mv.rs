//! `metan mv`: it prints what the library computes, with the JSON keys of issue 14, and
//! fails on bad input with exit code 1 and one line on stderr naming the row, cluster or
//! option.

use std::path::PathBuf;
use std::process::Command;

use metan::{MvModel, Structure, Studies, TestKind};
use serde_json::Value;

fn fixture() -> &'static Value {
    use std::sync::OnceLock;
    static FX: OnceLock<Value> = OnceLock::new();
    FX.get_or_init(|| serde_json::from_str(include_str!("../fixtures/mv.json")).expect("parses"))
}

fn csv(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("metan-cli-mv-{}-{name}.csv", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

fn metan(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// A fixture data set as CSV (columns yi, vi, cluster, obs, moderators) and as studies.
fn dataset(name: &str) -> (PathBuf, Studies) {
    let ds = fixture()["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap();
    let (y, v, cl, obs) = (
        f64s(&ds["yi"]),
        f64s(&ds["vi"]),
        strs(&ds["cluster"]),
        strs(&ds["obs"]),
    );
    let num: Vec<(String, Vec<f64>)> = ds["numeric"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(n, x)| (n.clone(), f64s(x)))
        .collect();
    let cat: Vec<(String, Vec<String>)> = ds["categorical"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(n, x)| (n.clone(), strs(x)))
        .collect();
    let mut text = String::from("yi,vi,cluster,obs");
    for (n, _) in &num {
        text.push_str(&format!(",{n}"));
    }
    for (n, _) in &cat {
        text.push_str(&format!(",{n}"));
    }
    text.push('\n');
    for i in 0..y.len() {
        text.push_str(&format!("{:?},{:?},\"{}\",{}", y[i], v[i], cl[i], obs[i]));
        for (_, x) in &num {
            text.push_str(&format!(",{:?}", x[i]));
        }
        for (_, x) in &cat {
            text.push_str(&format!(",{}", x[i]));
        }
        text.push('\n');
    }
    let mut s = Studies::from_variances(y, v)
        .unwrap()
        .with_clusters(cl)
        .unwrap()
        .with_observations(obs)
        .unwrap();
    for (n, x) in num {
        s = s.with_moderator(n, x).unwrap();
    }
    for (n, x) in cat {
        s = s.with_attribute(n, x).unwrap();
    }
    (csv(name, &text), s)
}

fn fit_fixture(id: &str) -> &'static Value {
    fixture()["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn three_level_json_has_the_issue_keys_and_metafor_numbers() {
    let (path, s) = dataset("assink");
    let p = path.to_str().unwrap();
    let (ok, out, err) = metan(&[
        "mv",
        p,
        "--cluster",
        "cluster",
        "--obs",
        "obs",
        "--mods",
        "year,deltype",
        "--test",
        "t",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    for key in [
        "k",
        "clusters",
        "method",
        "test",
        "sigma2",
        "tau2",
        "rho_between",
        "loglik",
        "deviance",
        "aic",
        "bic",
        "q",
        "q_df",
        "q_p_value",
        "qm",
        "qm_df",
        "qm_p_value",
        "coefficients",
        "converged",
        "iterations",
    ] {
        assert!(j.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(j["k"], 100);
    assert_eq!(j["clusters"], 17);
    assert_eq!(j["method"], "REML");
    assert_eq!(j["test"], "t");
    assert!(j["tau2"].is_null() && j["rho_between"].is_null());
    let c0 = &j["coefficients"][0];
    for key in [
        "name",
        "estimate",
        "se",
        "statistic",
        "df",
        "p_value",
        "ci_lower",
        "ci_upper",
    ] {
        assert!(c0.get(key).is_some(), "coefficient key {key}");
    }
    let names: Vec<&str> = j["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["intrcpt", "year", "deltypegeneral", "deltypeovert"]);
    assert_eq!(c0["df"], 96.0);
    // the library's numbers, exactly
    let lib = MvModel::new()
        .test(TestKind::T)
        .moderators(["year", "deltype"])
        .fit(&s)
        .unwrap();
    assert_eq!(f64s(&j["sigma2"]), lib.sigma2());
    assert_eq!(j["loglik"].as_f64().unwrap(), lib.loglik());
    assert_eq!(j["qm"].as_f64().unwrap(), lib.qm().unwrap());
    // metafor's (the polished optimum of its likelihood; see tests/parity/mv_parity.rs)
    let f = fit_fixture("assink_reml_t_mods");
    for (a, b) in f64s(&j["sigma2"]).iter().zip(f64s(&f["polished"]["theta"])) {
        assert!(close(*a, b, 1e-8), "{a} {b}");
    }
    for (c, b) in j["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .zip(f64s(&f["polished"]["beta"]))
    {
        assert!(close(c["estimate"].as_f64().unwrap(), b, 1e-8));
    }
    // the text output is the library's Display
    let (ok, text, _) = metan(&[
        "mv",
        p,
        "--cluster",
        "cluster",
        "--obs",
        "obs",
        "--mods",
        "year,deltype",
        "--test",
        "t",
    ]);
    assert!(ok);
    assert_eq!(text, lib.to_string());
    assert!(text.contains("sigma^2.2") && text.contains("cluster/obs"));
}

#[test]
fn multivariate_json_with_contrast() {
    let (path, s) = dataset("simulated");
    let p = path.to_str().unwrap();
    let (ok, out, err) = metan(&[
        "mv",
        p,
        "--cluster",
        "cluster",
        "--obs",
        "obs",
        "--rho",
        "0.6",
        "--outcome",
        "source",
        "--struct",
        "UN",
        "--contrast",
        "1,-1",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert!(j["sigma2"].is_null());
    assert_eq!(j["structure"], "UN");
    assert_eq!(strs(&j["outcome_levels"]), ["official", "partner"]);
    let f = fit_fixture("sim_un");
    let pol = f64s(&f["polished"]["theta"]);
    let tau2 = f64s(&j["tau2"]);
    let rho = f64s(&j["rho_between"]);
    assert_eq!(tau2.len(), 2);
    assert_eq!(rho.len(), 1);
    for (a, b) in tau2.iter().chain(&rho).zip(&pol) {
        assert!(close(*a, *b, 1e-8), "{a} {b}");
    }
    let lib = MvModel::new()
        .rho(0.6)
        .outcome("source", Structure::UN)
        .fit(&s)
        .unwrap();
    let h = lib.contrast(&[1.0, -1.0]).unwrap();
    assert_eq!(
        j["contrasts"]["rows"][0]["estimate"].as_f64().unwrap(),
        h.rows()[0].estimate
    );
    assert_eq!(
        j["contrasts"]["rows"][0]["description"],
        "sourceofficial - sourcepartner = 0"
    );
    assert_eq!(j["qm_df"], 2.0);
}

/// One stderr line, exit 1, no Rust debug output.
fn fails(args: &[&str], needles: &[&str]) {
    let (ok, out, err) = metan(args);
    assert!(!ok, "should fail: {args:?}\n{out}");
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("metan: error: "), "{err}");
    assert!(!err.contains("Some(") && !err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
}

#[test]
fn bad_input_is_one_line_naming_the_row_cluster_or_option() {
    let base = "yi,vi,study,es,outcome\n0.1,0.04,A,1,off\n0.3,0.05,A,2,par\n0.2,0.03,B,1,off\n\
                0.5,0.06,B,2,par\n0.4,0.05,C,1,off\n0.0,0.04,C,2,par\n";
    let p = csv("ok", base);
    let p = p.to_str().unwrap();
    // missing cluster value: the row is named
    let miss = csv(
        "missing",
        "yi,vi,study\n0.1,0.04,A\n0.3,0.05,\n0.2,0.03,B\n0.5,0.06,NA\n",
    );
    fails(
        &["mv", miss.to_str().unwrap(), "--cluster", "study"],
        &["study 2", "cluster", "missing"],
    );
    // rho outside [-1, 1]
    fails(
        &["mv", p, "--cluster", "study", "--rho", "1.5"],
        &["rho", "[-1, 1]"],
    );
    // rho with every cluster of one effect
    let single = csv(
        "single",
        "yi,vi,study\n0.1,0.04,A\n0.3,0.05,B\n0.2,0.03,C\n",
    );
    fails(
        &[
            "mv",
            single.to_str().unwrap(),
            "--cluster",
            "study",
            "--rho",
            "0.5",
        ],
        &["rho", "single effect", "\"A\""],
    );
    // a V block that is not positive definite: two effects with the same obs id and rho
    let dup = csv(
        "dup",
        "yi,vi,study,es\n0.1,0.04,A,1\n0.3,0.05,A,1\n0.2,0.03,B,1\n0.5,0.06,B,2\n0.4,0.05,C,1\n",
    );
    fails(
        &[
            "mv",
            dup.to_str().unwrap(),
            "--cluster",
            "study",
            "--obs",
            "es",
            "--rho",
            "0.7",
        ],
        &["not positive definite", "cluster `A`"],
    );
    // an outcome constant within every cluster
    let constant = csv(
        "constant",
        "yi,vi,study,outcome\n0.1,0.04,A,off\n0.3,0.05,A,off\n0.2,0.03,B,par\n0.5,0.06,B,par\n",
    );
    fails(
        &[
            "mv",
            constant.to_str().unwrap(),
            "--cluster",
            "study",
            "--outcome",
            "outcome",
            "--struct",
            "UN",
        ],
        &["outcome", "constant within every cluster"],
    );
    // too few clusters
    let one = csv("one", "yi,vi,study\n0.1,0.04,A\n0.3,0.05,A\n0.2,0.03,A\n");
    fails(
        &["mv", one.to_str().unwrap(), "--cluster", "study"],
        &["needs at least 2", "got 1"],
    );
    // too few effects for the moderators
    let tiny = csv(
        "tiny",
        "yi,vi,study,x,z\n0.1,0.04,A,1,5\n0.3,0.05,A,2,3\n0.2,0.03,B,4,1\n",
    );
    fails(
        &[
            "mv",
            tiny.to_str().unwrap(),
            "--cluster",
            "study",
            "--mods",
            "x,z",
        ],
        &["3 coefficients", "needs at least 4"],
    );
    // unknown structure, method, test
    fails(
        &[
            "mv",
            p,
            "--cluster",
            "study",
            "--outcome",
            "outcome",
            "--struct",
            "AR",
        ],
        &["structure", "AR"],
    );
    fails(
        &["mv", p, "--cluster", "study", "--method", "DL"],
        &["method", "REML or ML"],
    );
    fails(
        &["mv", p, "--cluster", "study", "--test", "knha"],
        &["test", "z or t"],
    );
    // a cluster column that does not exist
    fails(&["mv", p, "--cluster", "nope"], &["nope"]);
    // a good file works
    let (ok, _, err) = metan(&["mv", p, "--cluster", "study", "--rho", "0.5"]);
    assert!(ok, "{err}");
}

/// `--robust CR2|CR1`: the `robust` object (type, coefficients with Satterthwaite df /
/// clusters - p) equals `MvFit::robust` and clubSandwich's / metafor's numbers on
/// metafor's fit (to 1e-6: metan's optimum vs nlminb's; tests/parity/mv_parity.rs compares at
/// metafor's components to 1e-10), and the contrast's HTZ test clubSandwich's Wald_test.
#[test]
fn robust_json_cr2_and_cr1() {
    let (path, s) = dataset("simulated");
    let p = path.to_str().unwrap();
    let f = fit_fixture("sim_un_mods_t");
    let lib = MvModel::new()
        .rho(0.6)
        .outcome("source", Structure::UN)
        .moderators(["dose", "setting"])
        .test(metan::TestKind::T)
        .fit(&s)
        .unwrap();
    for kind in ["CR2", "CR1"] {
        let (ok, out, err) = metan(&[
            "mv",
            p,
            "--cluster",
            "cluster",
            "--obs",
            "obs",
            "--rho",
            "0.6",
            "--outcome",
            "source",
            "--struct",
            "UN",
            "--mods",
            "dose,setting",
            "--test",
            "t",
            "--contrast",
            "1,-1,0,0",
            "--robust",
            kind,
            "--format",
            "json",
        ]);
        assert!(ok, "{err}");
        let j: Value = serde_json::from_str(&out).unwrap();
        let r = &j["robust"];
        assert_eq!(r["type"], kind);
        let rk: metan::RobustKind = kind.parse().unwrap();
        let want = lib.robust(rk).unwrap();
        let coefs = r["coefficients"].as_array().unwrap();
        assert_eq!(coefs.len(), want.coefficients().len());
        let fx = &f["robust"][kind.to_lowercase()];
        let se_r = f64s(&fx["se"]);
        assert_eq!(coefs.len(), se_r.len());
        for (i, (c, w)) in coefs.iter().zip(want.coefficients()).enumerate() {
            for k in [
                "name",
                "estimate",
                "se",
                "statistic",
                "df",
                "p_value",
                "ci_lower",
                "ci_upper",
            ] {
                assert!(c.get(k).is_some(), "{kind}: key {k}");
            }
            assert_eq!(c["se"].as_f64().unwrap(), w.se);
            assert_eq!(c["df"].as_f64(), w.df);
            assert!(
                close(w.se, se_r[i], 1e-6),
                "{kind} se {i}: {} vs {}",
                w.se,
                se_r[i]
            );
            let df_r = match kind {
                "CR2" => f64s(&fx["df"])[i],
                _ => fx["df"].as_f64().unwrap(),
            };
            assert!(close(w.df.unwrap(), df_r, 1e-6), "{kind} df {i}");
        }
        if kind == "CR2" {
            let h = &j["robust_contrast"];
            let w = &fx["wald"].as_array().unwrap().last().unwrap();
            assert_eq!(f64s(&w["constraints"][0]), [1.0, -1.0, 0.0, 0.0]);
            assert!(close(
                h["statistic"].as_f64().unwrap(),
                w["Fstat"].as_f64().unwrap(),
                1e-6
            ));
            assert!(close(
                h["df_denom"].as_f64().unwrap(),
                w["df_denom"].as_f64().unwrap(),
                1e-6
            ));
        }
    }
    // too few clusters for CR2: one line naming the counts, exit 1
    let small = csv(
        "mv_two_clusters.csv",
        "yi,vi,study,x\n0.1,0.02,a,1\n0.3,0.03,a,2\n0.2,0.02,a,1.5\n0.5,0.04,b,3\n0.4,0.03,b,2.5\n0.6,0.02,b,4\n",
    );
    fails(
        &[
            "mv",
            small.to_str().unwrap(),
            "--cluster",
            "study",
            "--mods",
            "x",
            "--robust",
            "CR2",
        ],
        &["cluster"],
    );
}
