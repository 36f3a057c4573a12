//! The real thing: a tiny debate and a tiny facilitation run with real models through
//! the CLI binary (strong = Qwen2.5-Coder 1.5B, weak = judge = Qwen2.5-Coder 0.5B).
//! Kept to 2 items, 1 round and 16 tokens per turn (8 for the explanation) so the suite stays fast on 2 cores.

mod common;

use w2sd::runtime::catalog::{DEFAULT_STRONG, DEFAULT_WEAK};
use w2sd::session::{store, DebateStatus, JudgeKind};

fn w2sd(args: &[&str], data: &std::path::Path) -> (serde_json::Value, String) {
    let r = common::run_w2sd(args, data, &[]);
    (common::json_of(&r), r.stderr)
}

#[test]
fn tiny_real_debate_resume_and_facilitation() {
    common::model_path(DEFAULT_STRONG);
    common::model_path(DEFAULT_WEAK);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.json");
    let args = [
        "debate",
        "run",
        "--task",
        "builtin:capitals",
        "--n",
        "2",
        "--rounds",
        "1",
        "--max-tokens",
        "16",
        "--strong",
        DEFAULT_STRONG,
        "--weak",
        DEFAULT_WEAK,
        "--judge",
        "model",
        "--seed",
        "5",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    let (v, _) = w2sd(&args, dir.path());
    for key in ["judge_accuracy", "mean_d", "mean_d_ci", "ece", "win_rates", "wall_s"] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["judged"], 2);

    let s = store::load(&out).unwrap();
    assert_eq!(s.provenance.models["strong"].spec, DEFAULT_STRONG);
    assert_eq!(s.provenance.models["judge"].spec, DEFAULT_WEAK);
    assert!(s.provenance.models["strong"].sha256.as_deref().is_some_and(|h| h.len() == 64));
    assert!(s.provenance.prompts["judge_user"].text.contains("{{answer_a}}"));
    assert!(s.provenance.command.as_deref().unwrap().starts_with("w2sd debate run"));
    for d in &s.debates {
        assert_eq!(d.status, DebateStatus::Judged);
        // The first speaker is drawn per debate and recorded.
        assert_eq!(d.turns.iter().map(|t| t.side).collect::<Vec<_>>(), vec![d.first(), d.first().other()]);
        for t in &d.turns {
            assert!(!t.text.trim().is_empty() && t.tokens > 0 && t.tokens <= 16, "{t:?}");
        }
        let j = &d.judgements[0];
        assert_eq!(j.kind, JudgeKind::Model);
        // Both presentation orders were scored; p = σ(mean letter logit difference).
        assert_eq!(j.orders.iter().map(|o| o.strong_first).collect::<Vec<_>>(), vec![true, false]);
        let delta = w2sd::debate::score::combine_orders(&j.orders);
        assert!((j.p_strong - w2sd::stats::sigmoid(delta)).abs() < 1e-12);
        for o in &j.orders {
            assert!(o.letter_logprobs.iter().all(|l| l.is_finite() && *l < 0.0));
        }
        assert!((j.d - w2sd::debate::debate_score(j.p_strong)).abs() < 1e-12);
    }

    // The same command again resumes: nothing is regenerated or rewritten.
    let before = serde_json::to_string(&s.debates).unwrap();
    let (_, stderr) = w2sd(&args, dir.path());
    assert!(stderr.contains("resuming") && stderr.contains("2 of 2"), "{stderr}");
    assert_eq!(serde_json::to_string(&store::load(&out).unwrap().debates).unwrap(), before);

    // Facilitation on the same two items.
    let (f, _) = w2sd(
        &["facilitate", "--task", "builtin:capitals", "--n", "2", "--max-tokens", "8", "--seed", "5", "--json"],
        dir.path(),
    );
    for key in ["weak_alone", "weak_with_strong", "gain", "phi_p", "phi_acc"] {
        assert!(f[key].is_number(), "missing {key}: {f}");
    }
    let gain = f["gain"].as_f64().unwrap();
    assert!((gain - (f["weak_with_strong"].as_f64().unwrap() - f["weak_alone"].as_f64().unwrap())).abs() < 1e-12);
}
