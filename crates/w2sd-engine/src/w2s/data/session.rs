//! People as weak supervisors: a judged debate session becomes weak labels.
//!
//! Every judged debate gives its item's soft weak labels: the verdict's probability that the
//! strong side's answer is correct, `p_strong`, is the weak label of the strong side's
//! candidate, and `1 − p_strong` that of the weak side's. A multiple-choice item gives those
//! two candidate examples (the texts [`super::candidate_example`] makes for the task); an
//! item whose two choices are class names gives its one example ([`super::class_example`])
//! with `p(label 1)`.
//!
//! The verdict used is the item's first human judgement of the whole transcript (a model's,
//! when no person judged it). Debates nobody judged, and debates where both sides defend the
//! same answer, give no label; they are left out and counted.
//!
//! **Splits.** People labelled only the session's items, so the weak supervisor's accuracy
//! can only be measured there: the judged items are split by content (seeded) into
//! `strong_train` (the student learns their verdicts, the ceiling their ground truth: the
//! same rows, only the labels differ, as in Burns et al.), `val` and `test` (where weak,
//! student and ceiling are compared on the same items). `weak_train` is empty: a person
//! needs no training.

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::{Path, PathBuf};

use super::{candidate_example, class_example, is_class_item, Dataset, Example, SplitConfig, Splits, TaskKind};
use crate::session::{DebateRecord, JudgeKind, Judgement, Session};

/// The ladder entry of a session: `session:FILE`.
pub const PREFIX: &str = "session:";

/// Whether a ladder entry is a judged session (`session:FILE`).
pub fn is_session(spec: &str) -> bool {
    spec.trim().starts_with(PREFIX)
}

/// The session file of a `session:FILE` entry.
pub fn session_path(spec: &str) -> Option<PathBuf> {
    spec.trim().strip_prefix(PREFIX).map(|p| PathBuf::from(p.trim()))
}

/// A session's weak labels.
#[derive(Debug, Clone)]
pub struct SessionLabels {
    pub session: Session,
    /// One example per labelled candidate (class items: one per item).
    pub dataset: Dataset,
    /// `p(label 1)` of each example from its verdict, in dataset order.
    pub verdicts: Vec<f64>,
    /// Debates whose verdict became labels.
    pub judged: usize,
    /// Debates left out: nobody judged them.
    pub unjudged: usize,
    /// Debates left out: both sides defend the same answer.
    pub agreed: usize,
    /// Verdicts by a person / by a model.
    pub human: usize,
    pub model: usize,
}

/// The verdict a debate's labels come from: its first human judgement of the whole
/// transcript, else its first model judgement of it.
pub fn verdict(d: &DebateRecord) -> Option<&Judgement> {
    let whole = || d.judgements.iter().filter(|j| j.upto_round.is_none() && j.p_strong.is_finite());
    whole().find(|j| j.kind == JudgeKind::Human).or_else(|| whole().next())
}

/// Reads a session file and turns its verdicts into weak labels (see the module docs).
pub fn load(path: &Path) -> Result<SessionLabels> {
    let session = crate::session::load(path).with_context(|| format!("session {}", path.display()))?;
    labels(session).with_context(|| format!("session {}", path.display()))
}

/// [`load`] on a session already read.
pub fn labels(session: Session) -> Result<SessionLabels> {
    let (mut judged, mut unjudged, mut agreed, mut human, mut model) = (0, 0, 0, 0, 0);
    let mut examples: Vec<Example> = Vec::new();
    let mut verdicts = Vec::new();
    let class_items = !session.debates.is_empty() && session.debates.iter().all(|d| is_class_item(&d.item));
    for d in &session.debates {
        let Some(j) = verdict(d) else {
            unjudged += 1;
            continue;
        };
        if d.strong_answer == d.weak_answer {
            agreed += 1;
            continue;
        }
        judged += 1;
        match j.kind {
            JudgeKind::Human => human += 1,
            JudgeKind::Model => model += 1,
        }
        let p = j.p_strong.clamp(0.0, 1.0);
        let p_of = |c: usize| if c == d.strong_answer { p } else { 1.0 - p };
        if class_items {
            let mut e = class_example(&d.item);
            e.id = format!("{}#{}", e.id, d.index);
            examples.push(e);
            // p(label 1): the verdict on whichever side defends choice 1.
            verdicts.push(if d.strong_answer == 1 || d.weak_answer == 1 { p_of(1) } else { 1.0 - p_of(0) });
        } else {
            for c in [d.strong_answer, d.weak_answer] {
                let mut e = candidate_example(&d.item, c);
                // (a session may debate one item twice: ids stay unique, the group is shared)
                e.id = format!("{}#{}", e.id, d.index);
                examples.push(e);
                verdicts.push(p_of(c));
            }
        }
    }
    if judged == 0 {
        bail!(
            "no debate in it has a verdict ({unjudged} unjudged, {agreed} where both sides agree); judge some debates first (w2sd judge, or the Debate screen)"
        );
    }
    let mut ds = Dataset::new(if class_items { TaskKind::Binary } else { TaskKind::MultipleChoice }, examples);
    ds.spec = session.settings.task.clone();
    if class_items {
        let c = &session.debates[0].item.choices;
        ds.classes = Some([c[0].trim().to_string(), c[1].trim().to_string()]);
    }
    if unjudged + agreed > 0 {
        ds.notes.push(format!("{unjudged} unjudged and {agreed} agreed debates of the session give no label"));
    }
    Ok(SessionLabels { session, dataset: ds, verdicts, judged, unjudged, agreed, human, model })
}

/// The splits of a session's examples: groups (items) shuffled with `seed`, then
/// `round(test·G)` test groups and `round(val·G)` validation groups (at least 1 each), the
/// rest `strong_train`; `weak_train` is empty. Needs at least 4 judged items.
pub fn split(ds: &Dataset, cfg: &SplitConfig, seed: u64) -> Result<Splits> {
    let mut groups: Vec<&str> = Vec::new();
    for e in &ds.examples {
        if !groups.contains(&e.group.as_str()) {
            groups.push(&e.group);
        }
    }
    let g = groups.len();
    if g < 4 {
        bail!("only {g} distinct judged items: judge at least 4 (some for training, one each for validation and test)");
    }
    groups.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed ^ 0x5e55_1011));
    let n_test = ((cfg.test * g as f64).round() as usize).clamp(1, g - 3);
    let n_val = ((cfg.val * g as f64).round() as usize).clamp(1, g - n_test - 2);
    let of = |gs: &[&str]| -> Vec<usize> {
        (0..ds.examples.len()).filter(|&i| gs.contains(&ds.examples[i].group.as_str())).collect()
    };
    Ok(Splits {
        weak_train: Vec::new(),
        test: of(&groups[..n_test]),
        val: of(&groups[n_test..n_test + n_val]),
        strong_train: of(&groups[n_test + n_val..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::TaskItem;

    /// The shipped session (model-judged reading debates), with `debates` instead of its own.
    fn session(debates: Vec<DebateRecord>) -> Session {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sessions/reading-debate-n20.json");
        let mut s = crate::session::load(&path).unwrap();
        s.settings.task = "builtin:capitals".into();
        s.debates = debates;
        s
    }

    fn record(index: usize, strong: usize, weak: usize, p: Option<(JudgeKind, f64)>) -> DebateRecord {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sessions/reading-debate-n20.json");
        let shipped = crate::session::load(&path).unwrap();
        let mut d = shipped.debates[0].clone();
        d.index = index;
        d.item = TaskItem {
            id: format!("q{index}"),
            question: format!("What is the capital of country {index}?"),
            choices: vec!["A city".into(), "B city".into(), "C city".into()],
            answer: 0,
            passage: None,
            meta: Default::default(),
        };
        d.strong_answer = strong;
        d.weak_answer = weak;
        d.strong_correct = strong == 0;
        d.weak_correct = Some(weak == 0);
        let mut j = shipped.debates[0].judgements[0].clone();
        d.judgements.clear();
        if let Some((kind, p)) = p {
            j.kind = kind;
            j.p_strong = p;
            j.upto_round = None;
            d.judgements.push(j);
        }
        d
    }

    #[test]
    fn verdicts_become_candidate_labels_and_the_rest_is_counted() {
        let s = session(vec![
            record(0, 0, 1, Some((JudgeKind::Human, 0.8))),
            record(1, 2, 0, Some((JudgeKind::Human, 0.3))),
            record(2, 1, 0, None),
            record(3, 1, 1, Some((JudgeKind::Human, 0.9))),
            record(4, 0, 2, Some((JudgeKind::Model, 0.6))),
        ]);
        let l = labels(s).unwrap();
        assert_eq!((l.judged, l.unjudged, l.agreed, l.human, l.model), (3, 1, 1, 2, 1));
        let got: Vec<(String, bool, f64)> =
            l.dataset.examples.iter().zip(&l.verdicts).map(|(e, p)| (e.id.clone(), e.label, *p)).collect();
        // strong side's candidate gets p_strong, the weak side's 1 − p_strong; labels are the truth
        let want = [
            ("q0/0#0", true, 0.8),
            ("q0/1#0", false, 0.2),
            ("q1/2#1", false, 0.3),
            ("q1/0#1", true, 0.7),
            ("q4/0#4", true, 0.6),
            ("q4/2#4", false, 0.4),
        ];
        assert_eq!(got.len(), want.len());
        for ((id, label, p), (wid, wl, wp)) in got.iter().zip(want) {
            assert_eq!((id.as_str(), *label), (wid, wl));
            assert!((p - wp).abs() < 1e-12, "{id}: {p} vs {wp}");
        }
        // the texts are the task's own candidate texts
        assert_eq!(l.dataset.examples[0].text, "Q: What is the capital of country 0?\nA: A city");
        assert!(l.dataset.notes[0].contains("1 unjudged and 1 agreed"));
    }

    #[test]
    fn a_person_outranks_a_model_and_partial_readings_are_skipped() {
        let mut d = record(0, 0, 1, Some((JudgeKind::Model, 0.9)));
        let mut cut = d.judgements[0].clone();
        cut.upto_round = Some(1);
        cut.kind = JudgeKind::Human;
        cut.p_strong = 0.1;
        let mut person = d.judgements[0].clone();
        person.kind = JudgeKind::Human;
        person.p_strong = 0.35;
        d.judgements = vec![d.judgements[0].clone(), cut, person];
        assert_eq!(verdict(&d).unwrap().p_strong, 0.35);
    }

    #[test]
    fn splits_hold_out_whole_items_and_need_four() {
        let s = session((0..10).map(|i| record(i, 0, 1, Some((JudgeKind::Human, 0.7)))).collect());
        let l = labels(s).unwrap();
        let sp = split(&l.dataset, &SplitConfig::default(), 3).unwrap();
        assert!(sp.weak_train.is_empty());
        assert_eq!((sp.test.len(), sp.val.len(), sp.strong_train.len()), (4, 2, 14));
        let g = |idx: &[usize]| idx.iter().map(|&i| l.dataset.examples[i].group.clone()).collect::<Vec<_>>();
        for t in g(&sp.test) {
            assert!(!g(&sp.strong_train).contains(&t) && !g(&sp.val).contains(&t));
        }
        let small = session((0..3).map(|i| record(i, 0, 1, Some((JudgeKind::Human, 0.7)))).collect());
        let e = split(&labels(small).unwrap().dataset, &SplitConfig::default(), 3).unwrap_err();
        assert!(e.to_string().contains("at least 4"), "{e}");
        assert!(labels(session(vec![record(0, 0, 1, None)])).unwrap_err().to_string().contains("judge some debates"));
    }
}
