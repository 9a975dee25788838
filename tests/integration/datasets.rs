//! The real data sets equal metadat's copies (fixture written by tests/fixtures/datasets.R),
//! and the published results are read as printed.

use metan::datasets::{bcg, landenberger2005, published_results};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/datasets.json")).unwrap()
}

fn col<'a>(v: &'a Value, table: &str, name: &str) -> &'a Vec<Value> {
    v[table][name]
        .as_array()
        .unwrap_or_else(|| panic!("{table}.{name}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn u(v: &Value) -> Option<u32> {
    v.as_u64().map(|x| u32::try_from(x).unwrap())
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn yn(v: &Value) -> bool {
    match s(v) {
        "yes" => true,
        "no" => false,
        x => panic!("{x}"),
    }
}

#[test]
fn landenberger2005_equals_metadat() {
    let fx = fixture();
    let t = "landenberger2005";
    let got = landenberger2005().unwrap();
    assert_eq!(got.len(), 58);
    assert_eq!(col(&fx, t, "study").len(), 58);
    for (i, r) in got.iter().enumerate() {
        let c = |name: &str| &col(&fx, t, name)[i];
        assert_eq!(r.study, s(c("study")), "row {i}");
        assert_eq!(r.pubtype, s(c("pubtype")));
        assert_eq!(r.country, s(c("country")));
        assert_eq!(r.design, s(c("design")));
        assert_eq!(r.program, s(c("program")));
        assert_eq!(r.setting, s(c("setting")));
        assert_eq!(r.designprob, s(c("designprob")));
        assert_eq!(Some(r.n_ctrl_rec), u(c("n.ctrl.rec")));
        assert_eq!(Some(r.n_ctrl_non), u(c("n.ctrl.non")));
        assert_eq!(Some(r.n_cbt_rec), u(c("n.cbt.rec")));
        assert_eq!(Some(r.n_cbt_non), u(c("n.cbt.non")));
        assert_eq!(Some(r.interval), u(c("interval")));
        assert_eq!(r.group, s(c("group")));
        assert_eq!(r.age, u(c("age")));
        assert_eq!(r.male, u(c("male")));
        assert_eq!(r.minority, u(c("minority")));
        assert_eq!(r.length, f(c("length")));
        assert_eq!(r.sessions, f(c("sessions")));
        assert_eq!(r.hrs_week, f(c("hrs_week")));
        assert_eq!(r.hrs_total, f(c("hrs_total")));
        let k = &r.components;
        let flags = [
            (k.cognitive_skills, "cbt.cogskills"),
            (k.cognitive_restructuring, "cbt.cogrestruct"),
            (k.interpersonal_problem_solving, "cbt.intpprbsolv"),
            (k.social_skills, "cbt.socskills"),
            (k.anger_control, "cbt.angerctrl"),
            (k.victim_impact, "cbt.victimimpact"),
            (k.substance_abuse, "cbt.subabuse"),
            (k.behaviour_modification, "cbt.behavmod"),
            (k.relapse_prevention, "cbt.relapseprev"),
            (k.moral_reasoning, "cbt.moralrsng"),
            (k.role_taking, "cbt.roletaking"),
            (k.other, "cbt.other"),
        ];
        for (flag, name) in flags {
            assert_eq!(flag, yn(c(name)), "row {i} {name}");
        }
        assert_eq!(r.n_cbt(), r.n_cbt_rec + r.n_cbt_non);
        assert_eq!(r.n_ctrl(), r.n_ctrl_rec + r.n_ctrl_non);
    }
    // NA -> None, exactly where metadat has NA
    let na = |name: &str| col(&fx, t, name).iter().filter(|v| v.is_null()).count();
    assert_eq!(got.iter().filter(|r| r.age.is_none()).count(), na("age"));
    assert_eq!(got.iter().filter(|r| r.male.is_none()).count(), na("male"));
    assert_eq!(
        got.iter().filter(|r| r.minority.is_none()).count(),
        na("minority")
    );
}

#[test]
fn bcg_equals_metadat() {
    let fx = fixture();
    let t = "bcg";
    let got = bcg().unwrap();
    assert_eq!(got.len(), col(&fx, t, "trial").len());
    for (i, r) in got.iter().enumerate() {
        let c = |name: &str| &col(&fx, t, name)[i];
        assert_eq!(Some(r.trial), u(c("trial")));
        assert_eq!(r.author, s(c("author")));
        assert_eq!(Some(r.year), u(c("year")));
        assert_eq!(Some(r.tpos), u(c("tpos")));
        assert_eq!(Some(r.tneg), u(c("tneg")));
        assert_eq!(Some(r.cpos), u(c("cpos")));
        assert_eq!(Some(r.cneg), u(c("cneg")));
        assert_eq!(Some(r.ablat), u(c("ablat")));
        assert_eq!(r.alloc, s(c("alloc")));
    }
}

/// The published results are the shipped CSV, field for field, as printed.
#[test]
fn published_results_are_read_as_printed() {
    let text = include_str!("../../data/published-results.csv");
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let raw: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let got = published_results().unwrap();
    assert_eq!(got.len(), raw.len());
    assert_eq!(got.len(), 23);
    let opt = |x: &str| (!x.is_empty()).then(|| x.to_string());
    for (r, w) in got.iter().zip(&raw) {
        assert_eq!(r.review, &w[0]);
        assert_eq!(r.year.to_string(), &w[1]);
        assert_eq!(r.k, opt(&w[2]));
        assert_eq!(r.participants, opt(&w[3]));
        assert_eq!(r.outcome, opt(&w[4]));
        assert_eq!(r.measure, opt(&w[5]));
        assert_eq!(r.value_text, opt(&w[6]));
        assert_eq!(r.ci_text, opt(&w[7]));
        assert_eq!(r.note, opt(&w[8]));
        assert_eq!(r.source_url, &w[9]);
        // a parsed value is the printed text, read as a number
        if let Some(v) = r.value {
            assert_eq!(Some(v), w[6].parse::<f64>().ok());
        }
        if let (Some(lo), Some(hi)) = (r.ci_lower, r.ci_upper) {
            assert!(lo <= hi);
            let ci = &w[7];
            assert!(ci.starts_with(&format!("{lo:.2}")) && ci.ends_with(&format!("{hi:.2}")));
        }
        assert_eq!(r.ci_lower.is_some(), r.ci_upper.is_some());
    }
    let find = |year: u32, outcome: &str| {
        got.iter()
            .find(|r| r.year == year && r.outcome.as_deref() == Some(outcome))
            .unwrap()
    };
    // Wilson, Feder & Olaghere (2021): the two comparators of the simulator
    let off = find(2021, "experimental studies: official reports of IPV");
    assert_eq!(
        (off.value, off.ci_lower, off.ci_upper),
        (Some(0.79), Some(0.49), Some(1.28))
    );
    let vic = find(2021, "experimental studies: victim-reported outcomes");
    assert_eq!(
        (vic.value, vic.ci_lower, vic.ci_upper),
        (Some(0.99), Some(0.74), Some(1.32))
    );
    let kar = find(2019, "pre-post, all programmes");
    assert_eq!(
        (kar.value, kar.ci_lower, kar.ci_upper),
        (Some(-0.85), Some(-1.02), Some(-0.69))
    );
    // several numbers in one cell are not parsed
    let arias = find(2013, "Duluth / CBT (official reports)");
    assert_eq!(arias.value, None);
    assert_eq!(
        arias.value_text.as_deref(),
        Some("0.82 (Duluth); 0.94 (CBT)")
    );
    // every row has a source
    assert!(got.iter().all(|r| r.source_url.starts_with("http")));
}
