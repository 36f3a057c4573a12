//! Sessions on disk without models: atomic saves, crash + resume, bad files, the human
//! judge API, judge agreement, and the `sessions` CLI on a real session file.
//!
//! Debaters and judges here are scripted implementations of the `Debater` / `Judge`
//! traits (the same seam remote endpoints will use), so these tests run in milliseconds.

mod common;

use std::path::Path;

use anyhow::{bail, Result};
use w2sd::debate::human::{blind_shuffle, human_judgement, HumanJudgeError, HumanVerdict};
use w2sd::debate::prompts::Templates;
use w2sd::debate::runner::{self, RunPlan};
use w2sd::debate::{score, Debate, Debater, Judge, JudgeView, TurnContext, TurnOutput};
use w2sd::runtime::CancelToken;
use w2sd::session::{
    self, store, Assignment, DebateStatus, DebaterProfile, JudgeKind, JudgeSetting, Judgement, ModelRecord, Protocol,
    SessionError, Settings, TurnOrder,
};
use w2sd::tasks::TaskItem;

struct Scripted {
    profile: DebaterProfile,
    calls: usize,
}

impl Scripted {
    fn new(name: &str) -> Self {
        Scripted {
            profile: DebaterProfile {
                name: name.into(),
                model: name.into(),
                sees_passage: true,
                max_tokens: 8,
                sampling: Default::default(),
                template: "debater".into(),
                block_copies: false,
            },
            calls: 0,
        }
    }
}

impl Debater for Scripted {
    fn profile(&self) -> &DebaterProfile {
        &self.profile
    }
    fn model_record(&self) -> Option<ModelRecord> {
        None
    }
    fn argue(&mut self, ctx: &TurnContext, _c: &CancelToken, on_text: &mut dyn FnMut(&str)) -> Result<TurnOutput> {
        self.calls += 1;
        let text = format!("{} argues for {} in round {}", self.profile.name, ctx.item.choices[ctx.answer], ctx.round);
        on_text(&text);
        Ok(TurnOutput { text, tokens: 5, stop_reason: "eos".into(), seconds: 0.0 })
    }
    fn choice_logprobs(&mut self, item: &TaskItem, _e: Option<&str>) -> Result<Vec<f64>> {
        // The strong script knows the answer; the weak one always picks choice 0.
        Ok((0..item.choices.len())
            .map(|i| {
                if (self.profile.name == "strong" && i == item.answer) || (self.profile.name != "strong" && i == 0) {
                    -0.1
                } else {
                    -3.0
                }
            })
            .collect())
    }
}

/// Gives p_strong = 0.8 when the strong side is correct, 0.3 otherwise; fails (a
/// simulated crash) after `fail_after` judgements.
struct ScriptedJudge {
    name: String,
    calls: usize,
    fail_after: Option<usize>,
}

impl Judge for ScriptedJudge {
    fn name(&self) -> &str {
        &self.name
    }
    fn model_record(&self) -> Option<ModelRecord> {
        None
    }
    fn judge(&mut self, v: &JudgeView) -> Result<Judgement> {
        if self.fail_after == Some(self.calls) {
            bail!("simulated crash after {} judgements", self.calls);
        }
        self.calls += 1;
        let sc = v.strong_answer == v.item.answer;
        let p: f64 = if sc { 0.8 } else { 0.3 };
        let orders = vec![
            score::order_result([p.ln(), (1.0 - p).ln()], true),
            score::order_result([(1.0 - p).ln(), p.ln()], false),
        ];
        let p = w2sd::stats::sigmoid(score::combine_orders(&orders));
        let wc = v.weak_answer == v.item.answer;
        let (log_score, correct, d_correct) = score::verdict_scores(p, sc, wc);
        Ok(Judgement {
            kind: JudgeKind::Model,
            name: self.name.clone(),
            p_strong: p,
            orders,
            rationale: None,
            seconds: 0.0,
            blind: false,
            shuffle: None,
            d: score::debate_score(p),
            log_score,
            correct,
            at: session::now_rfc3339(),
            d_correct,
            upto_round: None,
        })
    }
}

fn plan(out: &Path, judge: JudgeSetting, n: usize) -> RunPlan {
    let s = Scripted::new("strong");
    let w = Scripted::new("weak");
    RunPlan {
        settings: Settings {
            task: "builtin:capitals".into(),
            n,
            seed: 11,
            protocol: Protocol::Debate,
            assignment: Assignment::Assigned,
            rounds: 2,
            turn_order: TurnOrder::Sequential,
            judge,
            judge_sees_passage: false,
        },
        strong: s.profile.clone(),
        weak: w.profile.clone(),
        out: out.to_path_buf(),
        templates: Templates::builtin(),
        command: None,
    }
}

fn model_judge() -> JudgeSetting {
    JudgeSetting::Model { spec: "scripted".into() }
}

#[test]
fn crash_after_k_judgements_then_resume_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let p = plan(&out, model_judge(), 6);
    let (mut s, mut w) = (Scripted::new("strong"), Scripted::new("weak"));
    let mut j = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: Some(3) };
    let err = runner::run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("simulated crash"));
    // What was judged before the crash is on disk; debate 3 is argued but unjudged.
    let saved = store::load(&out).unwrap();
    let status: Vec<DebateStatus> = saved.debates.iter().map(|d| d.status).collect();
    assert_eq!(status, vec![DebateStatus::Judged, DebateStatus::Judged, DebateStatus::Judged, DebateStatus::Argued]);
    assert_eq!(saved.scores.as_ref().unwrap().judged, 3);
    let before: Vec<String> = saved.debates[..3].iter().map(|d| serde_json::to_string(d).unwrap()).collect();
    let turns_before = serde_json::to_string(&saved.debates[3].turns).unwrap();
    // No temp files are left beside the session.
    assert_eq!(store::list(dir.path()).unwrap().len(), 1);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // Resume: judged debates are skipped, debate 3's turns are not regenerated.
    let (mut s2, mut w2) = (Scripted::new("strong"), Scripted::new("weak"));
    let mut j2 = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    let mut skipped = 0;
    let done = runner::run_session(&p, &mut s2, &mut w2, Some(&mut j2), &CancelToken::new(), &mut |e| {
        if let runner::RunEvent::Skipped { .. } = e {
            skipped += 1
        }
    })
    .unwrap();
    assert_eq!(skipped, 3);
    assert_eq!(j2.calls, 3, "debates 3, 4, 5 judged");
    assert_eq!((s2.calls, w2.calls), (4, 4), "two rounds for debates 4 and 5 only");
    assert!(done.debates.iter().all(|d| d.status == DebateStatus::Judged));
    let after: Vec<String> = done.debates[..3].iter().map(|d| serde_json::to_string(d).unwrap()).collect();
    assert_eq!(before, after, "saved judgements are never rewritten");
    assert_eq!(serde_json::to_string(&done.debates[3].turns).unwrap(), turns_before);
    // Scripted judge: p = 0.8 when strong is right, 0.3 when wrong → always correct.
    let sc = done.scores.unwrap();
    assert_eq!((sc.judged, sc.judge_accuracy), (6, 1.0));

    // A crash in the middle of a save leaves at most a stray temporary file (the rename
    // never happened): the session itself is intact, listing ignores the stray file,
    // and resuming works.
    std::fs::write(dir.path().join(".s.json.Ab12Cd.tmp"), &std::fs::read_to_string(&out).unwrap()[..100]).unwrap();
    assert_eq!(store::list(dir.path()).unwrap(), vec![out.clone()]);
    assert_eq!(store::load(&out).unwrap().debates.len(), 6);

    // Running again does nothing new.
    let mut j3 = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    let (mut s3, mut w3) = (Scripted::new("strong"), Scripted::new("weak"));
    runner::run_session(&p, &mut s3, &mut w3, Some(&mut j3), &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!((j3.calls, s3.calls, w3.calls), (0, 0, 0));
}

#[test]
fn crash_mid_debate_resumes_from_the_next_turn() {
    // A debater that fails on its second call simulates a kill during turn generation.
    struct Flaky(Scripted);
    impl Debater for Flaky {
        fn profile(&self) -> &DebaterProfile {
            &self.0.profile
        }
        fn model_record(&self) -> Option<ModelRecord> {
            None
        }
        fn argue(&mut self, c: &TurnContext, k: &CancelToken, t: &mut dyn FnMut(&str)) -> Result<TurnOutput> {
            if self.0.calls == 1 {
                bail!("killed");
            }
            self.0.argue(c, k, t)
        }
        fn choice_logprobs(&mut self, i: &TaskItem, e: Option<&str>) -> Result<Vec<f64>> {
            self.0.choice_logprobs(i, e)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let p = plan(&out, model_judge(), 2);
    let mut s = Flaky(Scripted::new("strong"));
    let mut w = Scripted::new("weak");
    let mut j = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    assert!(runner::run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).is_err());
    let saved = store::load(&out).unwrap();
    assert_eq!(saved.debates[0].turns.len(), 2, "round 1 saved turn by turn");
    assert_eq!(saved.debates[0].status, DebateStatus::Pending);
    let (mut s2, mut w2) = (Scripted::new("strong"), Scripted::new("weak"));
    runner::run_session(&p, &mut s2, &mut w2, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!((s2.calls, w2.calls), (3, 3), "round 2 of debate 0, then both rounds of debate 1");
}

#[test]
fn bad_session_files_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let p = plan(&out, model_judge(), 2);
    let (mut s, mut w) = (Scripted::new("strong"), Scripted::new("weak"));
    let mut j = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    runner::run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();
    let good = std::fs::read_to_string(&out).unwrap();

    let run_on = |text: &str, p: &RunPlan| -> String {
        std::fs::write(&out, text).unwrap();
        let (mut s, mut w) = (Scripted::new("strong"), Scripted::new("weak"));
        let mut j = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
        let e = runner::run_session(p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap_err();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), text, "the file must not be modified");
        assert_eq!((s.calls, w.calls, j.calls), (0, 0, 0));
        format!("{e:#}")
    };
    // Truncated (a partial write by some other tool, or a copy cut short).
    let msg = run_on(&good[..good.len() * 2 / 3], &p);
    assert!(msg.contains("truncated") && msg.contains("s.json"), "{msg}");
    let e = store::load(&out).unwrap_err();
    assert!(matches!(e, SessionError::Truncated { .. }));
    // Newer version.
    let msg = run_on(&good.replacen("\"version\": 1", "\"version\": 7", 1), &p);
    assert!(msg.contains("version 7") && msg.contains("s.json") && msg.contains("upgrade"), "{msg}");
    // Same file, other settings.
    let mut other = plan(&out, model_judge(), 2);
    other.settings.rounds = 1;
    let msg = run_on(&good, &other);
    assert!(msg.contains("different settings") && msg.contains("rounds"), "{msg}");
    // Not JSON at all.
    let msg = run_on("hello", &p);
    assert!(msg.contains("not valid JSON") && msg.contains("line 1"), "{msg}");
}

#[test]
fn human_judge_api_blind_and_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.json");
    let p = plan(&out, JudgeSetting::Human, 4);
    let (mut s, mut w) = (Scripted::new("strong"), Scripted::new("weak"));
    let sess = runner::run_session(&p, &mut s, &mut w, None, &CancelToken::new(), &mut |_| {}).unwrap();
    assert!(sess.debates.iter().all(|d| d.status == DebateStatus::Argued));
    let mut sess = store::load(&out).unwrap();

    // 50% is refused; off-scale values too; nothing is written.
    let rec = &sess.debates[0];
    let v = |pct: u32| HumanVerdict {
        judge_name: "ada".into(),
        percent_strong: pct,
        rationale: None,
        seconds: 12.5,
        blind: None,
    };
    assert_eq!(human_judgement(rec, &v(50)).unwrap_err(), HumanJudgeError::Indifferent);
    assert_eq!(human_judgement(rec, &v(52)).unwrap_err(), HumanJudgeError::OffScale(52));

    // Judge every debate blind: the person leans 70% towards the left debater.
    for i in 0..sess.debates.len() {
        let shuffle = blind_shuffle(sess.settings.seed, i);
        let p_strong = shuffle.p_strong_from_left(0.70);
        let verdict = HumanVerdict {
            judge_name: "ada".into(),
            percent_strong: (p_strong * 100.0).round() as u32,
            rationale: Some("the left argument cites the table".into()),
            seconds: 30.0,
            blind: Some(shuffle),
        };
        let mut d = Debate::from_record(&sess.settings, sess.debates[i].clone());
        d.record_judgement(human_judgement(&d.record, &verdict).unwrap()).unwrap();
        sess.debates[i] = d.record;
        runner::save(&out, &mut sess).unwrap();
    }
    let back = store::load(&out).unwrap();
    for (i, d) in back.debates.iter().enumerate() {
        let j = &d.judgements[0];
        assert_eq!((j.kind, j.blind, j.seconds), (JudgeKind::Human, true, 30.0));
        let sh = j.shuffle.unwrap();
        assert_eq!(sh, blind_shuffle(11, i));
        assert!((j.p_strong - if sh.strong_left { 0.7 } else { 0.3 }).abs() < 1e-12);
        assert!((j.d - score::debate_score(j.p_strong)).abs() < 1e-12);
        assert_eq!(j.rationale.as_deref(), Some("the left argument cites the table"));
    }
    assert_eq!(back.scores.as_ref().unwrap().judged, 4);

    // A second (scripted model) judge on the same debates → Cohen's kappa.
    let mut j2 = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    let added = runner::judge_saved(&out, &mut j2, &mut |_| {}).unwrap();
    assert_eq!(added, 4);
    assert_eq!(runner::judge_saved(&out, &mut j2, &mut |_| {}).unwrap(), 0, "a judge judges each debate once");
    let back = store::load(&out).unwrap();
    let k = w2sd::debate::metrics::judge_agreement(&back);
    assert_eq!(k.len(), 1);
    assert_eq!((k[0].judge_a.as_str(), k[0].judge_b.as_str(), k[0].n), ("ada", "scripted", 4));
    let a: Vec<usize> = back.debates.iter().map(|d| (d.judgements[0].p_strong > 0.5) as usize).collect();
    let b: Vec<usize> = back.debates.iter().map(|d| (d.judgements[1].p_strong > 0.5) as usize).collect();
    assert_eq!(k[0].kappa.to_bits(), w2sd::stats::cohen_kappa(&a, &b).to_bits());
}

#[test]
fn sessions_cli_on_a_saved_session() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.json");
    let p = plan(&out, model_judge(), 8);
    let (mut s, mut w) = (Scripted::new("strong"), Scripted::new("weak"));
    let mut j = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    let sess = runner::run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();

    let run = |args: &[&str]| {
        let o = std::process::Command::new(common::bin()).args(args).env("W2SD_DATA_DIR", dir.path()).output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = run(&["sessions", "stats", out.to_str().unwrap(), "--json"]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    for key in ["judge_accuracy", "mean_d", "mean_d_ci", "ece", "win_rates"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["judge_accuracy"], 1.0);
    // Scripted p: 0.8 (D = ln 4) when strong is right, 0.3 (D = ln 3/7) when wrong.
    let n_right = sess.debates.iter().filter(|d| d.strong_correct).count() as f64;
    let want = (n_right * 4f64.ln() + (8.0 - n_right) * (0.3f64 / 0.7).ln()) / 8.0;
    assert!((v["mean_d"].as_f64().unwrap() - want).abs() < 1e-9);
    let ci = v["mean_d_ci"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() <= want && want <= ci[1].as_f64().unwrap());
    assert_eq!(v["win_rates"]["strong"].as_f64().unwrap(), n_right / 8.0);
    // Bradley–Terry ratings replace Elo: one per profile, with an interval.
    let r = v["ratings"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|x| x["ci"].as_array().unwrap().len() == 2 && x["games"] == 8));
    assert!(v["turn_quality"].as_array().unwrap().iter().any(|q| q["side"] == "all" && q["turns"] == 32));
    assert!(v["position_bias"].as_array().unwrap()[0]["flip_rate"].is_number());

    let (ok, stdout, _) = run(&["sessions", "export", out.to_str().unwrap(), "--format", "csv"]);
    assert!(ok);
    let mut rdr = csv::Reader::from_reader(stdout.as_bytes());
    assert_eq!(rdr.records().count(), 8);
    let (ok, stdout, _) = run(&["sessions", "export", out.to_str().unwrap(), "--format", "jsonl"]);
    assert!(ok);
    assert_eq!(stdout.lines().count(), 8);
    let row: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(row["transcript"].as_array().unwrap().len(), 4);

    std::fs::create_dir_all(dir.path().join("sessions")).unwrap();
    std::fs::copy(&out, dir.path().join("sessions").join("c.json")).unwrap();
    std::fs::write(dir.path().join("sessions").join("broken.json"), "{\"version\": 1, \"id\"").unwrap();
    let (ok, stdout, _) = run(&["sessions", "list", "--json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let rows = v["sessions"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .any(|r| r["error"].as_str().is_some_and(|e| e.contains("broken.json") && e.contains("truncated"))));
    let (ok, stdout, _) = run(&["sessions", "show", "c.json"]);
    assert!(ok && stdout.contains("judge scripted"), "{stdout}");
}

#[test]
fn cli_bad_inputs_fail_before_loading_models() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(common::bin()).args(args).env("W2SD_DATA_DIR", dir.path()).output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, err) = run(&["debate", "run", "--task", "builtin:nope", "--n", "2"]);
    assert_eq!(code, Some(2), "bad input exits 2: {err}");
    assert!(err.contains("unknown task spec") && err.contains("builtin:reading"), "{err}");

    let bad = dir.path().join("t.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"a\", \"question\": \"q\", \"choices\": [\"x\", \"y\"], \"answer\": 0}\n{\"id\": \"b\"}\n",
    )
    .unwrap();
    let (code, err) = run(&["facilitate", "--task", bad.to_str().unwrap(), "--n", "2"]);
    assert_eq!(code, Some(2), "bad input exits 2: {err}");
    assert!(err.contains("t.jsonl:2:") && err.contains("missing field \"question\""), "{err}");

    let sess = dir.path().join("s.json");
    std::fs::write(&sess, "{\"version\": 1, \"id\": \"x\", \"created\"").unwrap();
    let (code, err) =
        run(&["debate", "run", "--task", "builtin:capitals", "--n", "2", "--out", sess.to_str().unwrap()]);
    assert_eq!(code, Some(2), "bad input exits 2: {err}");
    assert!(err.contains("truncated") && err.contains("s.json"), "{err}");
    assert_eq!(std::fs::read_to_string(&sess).unwrap(), "{\"version\": 1, \"id\": \"x\", \"created\"");
    let (code, err) = run(&["sessions", "stats", sess.to_str().unwrap()]);
    assert_eq!(code, Some(2), "bad input exits 2: {err}");
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn out_of_range_indices_are_refused_on_load_naming_file_and_debate() {
    // Regression (issue 10): such files used to panic in render.rs and cli/debate.rs.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.json");
    let p = plan(&out, model_judge(), 3);
    let (mut s, mut w) = (Scripted::new("strong"), Scripted::new("weak"));
    let mut j = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    runner::run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    v["debates"][2]["weak_answer"] = serde_json::json!(9);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_string(&v).unwrap()).unwrap();
    let e = store::load(&bad).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SessionError::Invalid { debate: 2, .. }), "{msg}");
    assert!(msg.contains("bad.json") && msg.contains("debate 2") && msg.contains("weak_answer 9"), "{msg}");
    let o =
        std::process::Command::new(common::bin()).args(["sessions", "show", bad.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    // A session file that fails validation is bad input: exit status 2.
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.json") && err.contains("debate 2") && !err.contains("panicked"), "{err}");
}

#[test]
fn the_shipped_n20_session_still_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json");
    let s = store::load(&path).unwrap();
    assert_eq!(s.debates.len(), 20);
    // Old records: no first speaker recorded means strong first; weak_correct computed.
    assert!(s.debates.iter().all(|d| d.first() == w2sd::session::Side::Strong && d.has_correct_side()));
    let q = w2sd::debate::metrics::turn_quality(&s);
    let weak = q.iter().find(|x| x.side == "weak").unwrap();
    // The figures: 3 of 20 weak turns leak the prompt, 23 of 40 turns hit the budget.
    assert_eq!(weak.leak_rate, 3.0 / 20.0);
    assert_eq!(q.iter().find(|x| x.side == "all").unwrap().budget_rate, 23.0 / 40.0);
    let b = w2sd::debate::metrics::position_bias(&s);
    assert!((b[0].mean_p_a - 0.745).abs() < 0.005, "{b:?}");
}

#[test]
fn self_assignment_with_both_sides_wrong_is_left_out_and_counted() {
    // Regression (issue 10): siding with a wrong weak answer counted as correct.
    struct Picks(Scripted, usize);
    impl Debater for Picks {
        fn profile(&self) -> &DebaterProfile {
            &self.0.profile
        }
        fn model_record(&self) -> Option<ModelRecord> {
            None
        }
        fn argue(&mut self, c: &TurnContext, k: &CancelToken, t: &mut dyn FnMut(&str)) -> Result<TurnOutput> {
            self.0.argue(c, k, t)
        }
        fn choice_logprobs(&mut self, i: &TaskItem, _e: Option<&str>) -> Result<Vec<f64>> {
            Ok((0..i.choices.len()).map(|c| if c == self.1 { -0.1 } else { -3.0 }).collect())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("self.json");
    let mut p = plan(&out, model_judge(), 12);
    p.settings.assignment = Assignment::SelfChosen;
    let (mut s, mut w) = (Picks(Scripted::new("strong"), 1), Picks(Scripted::new("weak"), 0));
    let mut j = ScriptedJudge { name: "scripted".into(), calls: 0, fail_after: None };
    let sess = runner::run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();
    let neither = sess.debates.iter().filter(|d| d.item.answer > 1).count();
    assert!(neither > 0 && neither < 12, "the test needs both kinds of items ({neither})");
    for d in &sess.debates {
        assert_eq!(d.weak_correct, Some(d.weak_answer == d.item.answer));
        if d.item.answer > 1 {
            let j = &d.judgements[0];
            assert!(!j.correct && j.log_score.is_nan() && j.d_correct.is_none());
        }
    }
    let sc = sess.scores.clone().unwrap();
    assert_eq!((sc.judged, sc.neither_correct), (12 - neither, neither));
    // The scripted judge favours the correct side whenever there is one.
    assert_eq!(sc.judge_accuracy, 1.0);
    // NaN log scores are written as null and the file reads back.
    assert_eq!(store::load(&out).unwrap().debates.len(), 12);
}

#[test]
fn facilitation_saves_each_item_and_resumes() {
    use w2sd::debate::facilitate::{facilitate, report};
    let items = w2sd::tasks::load("builtin:capitals", Some(4), 3).unwrap();
    let (mut s, mut w) = (Scripted::new("strong"), Scripted::new("weak"));
    let mut saved: Vec<usize> = Vec::new();
    let first = facilitate(&items[..2], &mut s, &mut w, &CancelToken::new(), Vec::new(), &mut |_| {}, &mut |r| {
        saved.push(r.len());
        Ok(())
    })
    .unwrap();
    assert_eq!(saved, vec![1, 2], "saved after every item");
    // Strong explains twice per item (its own answer, then the wrong-answer control).
    assert_eq!(s.calls, 4);
    let (mut s2, mut w2) = (Scripted::new("strong"), Scripted::new("weak"));
    let all =
        facilitate(&items, &mut s2, &mut w2, &CancelToken::new(), first.clone(), &mut |_| {}, &mut |_| Ok(())).unwrap();
    assert_eq!((all.len(), s2.calls), (4, 4), "only items 3 and 4 are new");
    assert_eq!(&all[..2], &first[..]);
    assert!(all.iter().all(|r| r.wrong_choice.is_some_and(|c| c != r.answer)));
    let rep = report(
        "builtin:capitals",
        3,
        s.profile.clone(),
        w.profile.clone(),
        Default::default(),
        Default::default(),
        all,
    );
    let want: f64 = rep.items.iter().map(|r| r.p_correct_with - r.p_correct_alone).sum::<f64>() / 4.0;
    assert!((rep.phi_p - want).abs() < 1e-12 && rep.n_control == 4);
    // Results of other items are refused rather than mixed in.
    let other = w2sd::tasks::load("builtin:capitals", Some(4), 99).unwrap();
    let e = facilitate(&other, &mut s2, &mut w2, &CancelToken::new(), first, &mut |_| {}, &mut |_| Ok(())).unwrap_err();
    assert!(e.to_string().contains("saved facilitation result"), "{e}");
}

#[test]
fn copy_rate_counts_only_turns_a_side_could_see() {
    // Regression (issue 10): in a simultaneous first round neither side sees the other, so
    // a round-1 turn (recorded without a copy overlap) must not be compared against the
    // opponent's round-1 turn. Debate 51 of the shipped n = 200 comparison: the weak
    // round-1 turn shares 75% of its 5-grams with the strong round-1 turn it never saw
    // (both quote the passage); its round-2 turn was recorded below 0.5.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "sessions/compare-reading-qwen2.5-coder-1.5b-instruct-vs-qwen2.5-coder-0.5b-instruct-debate-r2-n200-s42.json",
    );
    let mut s = store::load(&path).unwrap();
    assert_eq!(s.settings.turn_order, w2sd::session::TurnOrder::SimultaneousFirst);
    s.debates = vec![s.debates[51].clone()];
    let d = &s.debates[0];
    assert_eq!((d.turns[1].round, d.turns[1].side), (1, w2sd::session::Side::Weak));
    assert!(d.turns[1].flags.copy_overlap.is_none());
    let unseen = w2sd::debate::quality::copy_overlap(&d.turns[1].text, &[d.turns[0].text.as_str()]).unwrap();
    assert!(unseen > 0.5, "{unseen}");
    let q = w2sd::debate::metrics::turn_quality(&s);
    assert_eq!(q.iter().find(|x| x.side == "weak").unwrap().copy_rate, 0.0);
}
