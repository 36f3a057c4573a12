//! Weak-to-strong datasets: every task becomes binary examples `(text, label)`.
//!
//! - **Binary classification** (sentiment, BoolQ, ETHICS…): the text and its 0/1 label.
//! - **Multiple choice** (SciQ, Cosmos QA, the built-in reading/capitals/arithmetic
//!   suites): as in Burns et al., one binary example per (question, candidate) — label 1
//!   when the candidate is correct. By default ([`McMode::Pair`]) each question keeps its
//!   correct answer and one seeded random distractor, so classes are balanced. All
//!   candidates of a question share a `group` and always land in the same split.
//! - **Pairwise preference** (reward modelling): chosen and rejected are shown together
//!   in one text, in a seeded random order, and the label says whether response A is the
//!   better one. (A single response alone sits at chance for every model.)
//! - **Chess**: generated mate-in-one positions with a candidate move; label 1 when the
//!   move mates (decided by legal-move search with shakmaty).
//!
//! Task specs: `builtin:NAME` (`chess`, `preference`, and the shared suites of
//! [`crate::tasks`]), a `.jsonl`/`.json`/`.csv`/`.tsv` path, or `hf:owner/name[:file]`
//! (a Hugging Face dataset through hf-hub, cache-first, honouring `HF_HUB_OFFLINE`). A
//! path or `hf:` spec may end with `?text=FIELD&label=FIELD` to name its columns.

pub mod chess;
pub mod files;
pub mod preference;
pub mod session;

use anyhow::{bail, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::tasks::TaskItem;

/// What kind of task the examples came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Binary,
    MultipleChoice,
    Preference,
    Chess,
}

/// One binary example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Unique within the dataset (`<item>` or `<item>/<candidate>`).
    pub id: String,
    /// Examples of one group (the candidates of one question) share a split.
    pub group: String,
    pub text: String,
    pub label: bool,
    /// A preference pair's parts (`text` is their [`preference::pair_text`]): model
    /// features then score each response on its own, `f(prompt, A) − f(prompt, B)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<preference::Pair>,
}

/// A loaded task, converted to binary examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub spec: String,
    pub kind: TaskKind,
    pub examples: Vec<Example>,
    /// Examples removed because their normalised text repeated an earlier one.
    #[serde(default)]
    pub duplicates_removed: usize,
    /// Things the loader wants the user to know (a pool smaller than `n`, …).
    #[serde(default)]
    pub notes: Vec<String>,
    /// What label 0 and label 1 mean, when the task names its classes
    /// (`["negative", "positive"]`): the claims of debate context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<[String; 2]>,
}

impl Dataset {
    pub fn new(kind: TaskKind, examples: Vec<Example>) -> Dataset {
        Dataset { spec: String::new(), kind, examples, duplicates_removed: 0, notes: Vec::new(), classes: None }
    }
}

/// How multiple-choice items become binary examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum McMode {
    /// The correct candidate and one random distractor per question (balanced classes).
    #[default]
    Pair,
    /// Every candidate (class 1 share = 1/#choices).
    All,
}

/// Options for [`load`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Source items to keep (questions, rows, pairs, positions), a seeded uniform sample
    /// (never the head of the file: some files are sorted by label). `None` = all
    /// (the generators then make 500).
    pub n: Option<usize>,
    pub seed: u64,
    /// Column/field holding the text (auto-detected when `None`).
    pub text_field: Option<String>,
    /// Column/field holding the label (`label` when `None`).
    pub label_field: Option<String>,
    pub mc: McMode,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { n: None, seed: 0, text_field: None, label_field: None, mc: McMode::Pair }
    }
}

/// Items the generators make when `n` is not given.
pub const DEFAULT_GENERATED: usize = 500;

/// The `builtin:` specs [`load`] knows: its own generators (`chess`, `preference`) and the
/// shared suites ([`crate::tasks::BUILTIN_SUITES`]).
pub fn builtin_specs() -> Vec<String> {
    ["chess", "preference"].iter().chain(crate::tasks::BUILTIN_SUITES).map(|n| format!("builtin:{n}")).collect()
}

/// Loads a task spec into binary examples.
pub fn load(spec: &str, opts: &LoadOptions) -> Result<Dataset> {
    let spec = spec.trim();
    let (base, query) = match spec.split_once('?') {
        Some((b, q)) if !spec.starts_with("builtin:") => (b, Some(q)),
        _ => (spec, None),
    };
    let mut opts = opts.clone();
    if let Some(q) = query {
        for kv in q.split('&').filter(|s| !s.is_empty()) {
            match kv.split_once('=') {
                Some(("text", v)) => opts.text_field = Some(v.to_string()),
                Some(("label", v)) => opts.label_field = Some(v.to_string()),
                _ => bail!("unknown option {kv:?} in task spec {spec:?}: use ?text=FIELD&label=FIELD"),
            }
        }
    }
    let mut ds = if let Some(name) = base.strip_prefix("builtin:") {
        let n = opts.n.unwrap_or(DEFAULT_GENERATED);
        match name {
            "chess" => chess::dataset(n, opts.seed)?,
            "preference" => preference::dataset(n, opts.seed),
            other => {
                // The shared suites draw with replacement: generate more and keep the first
                // `n` distinct questions (all of them when the pool is smaller).
                let want = opts.n.unwrap_or(crate::tasks::DEFAULT_BUILTIN_N);
                let items = crate::tasks::load(&format!("builtin:{other}"), Some(want * 20), opts.seed)?;
                let (mut items, _) = distinct_items(items);
                let pool = items.len();
                items.truncate(want);
                let mut ds = from_items(&items, opts.mc, opts.seed);
                if pool < want {
                    ds.notes.push(format!(
                        "builtin:{other} has {pool} distinct questions in {} draws; {want} were asked for, {pool} are used (no repeats)",
                        want * 20
                    ));
                }
                ds
            }
        }
    } else if let Some(rest) = base.strip_prefix("hf:") {
        let path = files::hf_dataset_file(rest)?;
        files::load_file(&path, &opts)?
    } else {
        let path = std::path::Path::new(base.strip_prefix("jsonl:").unwrap_or(base));
        if !path.exists() {
            bail!("task {base:?} is neither builtin:NAME, hf:owner/name[:file] nor an existing file");
        }
        files::load_file(path, &opts)?
    };
    ds.spec = spec.to_string();
    ds.duplicates_removed += dedupe(&mut ds);
    if ds.examples.is_empty() {
        bail!("task {spec:?} has no examples");
    }
    check_unique_ids(&ds)?;
    Ok(ds)
}

/// The normalised content of a text, what "the same text" means for splitting,
/// deduplication and the contamination count: lower case, alphanumeric runs only, joined
/// by single spaces (`"A  fine film!"` and `"a fine film"` are the same text).
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Removes every example whose normalised text ([`normalise`]) occurred earlier in the
/// dataset (the first copy stays, with its label). Returns how many were removed.
pub fn dedupe(ds: &mut Dataset) -> usize {
    let mut seen = std::collections::HashSet::new();
    let before = ds.examples.len();
    ds.examples.retain(|e| seen.insert(normalise(&e.text)));
    before - ds.examples.len()
}

/// Test examples whose normalised text also occurs in `weak_train`, `strong_train` or
/// `val`: the contamination count of the data stage, which must be 0.
pub fn contamination(ds: &Dataset, s: &Splits) -> usize {
    let train: std::collections::HashSet<String> =
        s.weak_train.iter().chain(&s.strong_train).chain(&s.val).map(|&i| normalise(&ds.examples[i].text)).collect();
    s.test.iter().filter(|&&i| train.contains(&normalise(&ds.examples[i].text))).count()
}

/// The content key of a task item, its group: the normalised passage when it has one
/// (every question on one story or support text lands in one split), else the normalised
/// question (`builtin:capitals`: the country).
pub fn item_key(it: &TaskItem) -> String {
    match it.passage.as_deref().map(normalise).filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => normalise(&it.question),
    }
}

/// Keeps the first item of every distinct (normalised passage, question), in order: a
/// generated suite drawn with replacement becomes a draw without replacement. Returns the
/// kept items and how many repeats were dropped.
pub fn distinct_items(items: Vec<TaskItem>) -> (Vec<TaskItem>, usize) {
    let mut seen = std::collections::HashSet::new();
    let before = items.len();
    let kept: Vec<TaskItem> = items
        .into_iter()
        .filter(|it| {
            let p = it.passage.as_deref().map(normalise).unwrap_or_default();
            seen.insert((p, normalise(&it.question)))
        })
        .collect();
    let dropped = before - kept.len();
    (kept, dropped)
}

fn check_unique_ids(ds: &Dataset) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for e in &ds.examples {
        if !seen.insert(e.id.as_str()) {
            bail!("task {:?}: example id {:?} occurs twice", ds.spec, e.id);
        }
    }
    Ok(())
}

/// Keeps a seeded uniform sample of `n` of `len` items (all when `n ≥ len`), in their
/// original order.
pub fn sample_indices(len: usize, n: Option<usize>, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..len).collect();
    if let Some(n) = n.filter(|&n| n < len) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed_5a3b_1e00);
        idx.shuffle(&mut rng);
        idx.truncate(n);
        idx.sort_unstable();
    }
    idx
}

/// Whether a two-choice item's choices are class names (`negative/positive`,
/// `false/true`, `no/yes`) rather than candidate answers.
fn choices_are_classes(choices: &[String]) -> bool {
    let c: Vec<String> = choices.iter().map(|s| s.trim().to_lowercase()).collect();
    matches!(
        (c[0].as_str(), c[1].as_str()),
        ("negative", "positive")
            | ("false", "true")
            | ("no", "yes")
            | ("neg", "pos")
            | ("incorrect", "correct")
            | ("wrong", "right")
    )
}

/// Converts task items to binary examples (Burns-style).
///
/// Two-choice items whose choices are class names (`["negative", "positive"]`, …) become
/// one example: the text (passage, then question, so truncation from the left keeps the
/// question) with label `answer == 1`, grouped by its normalised text. Other items are
/// multiple choice: one example per kept candidate, text
/// `"{passage}\n\nQ: {question}\nA: {candidate}"`, label `candidate is correct`, all
/// candidates grouped by the item's content ([`item_key`]), so an item repeated under
/// another id never straddles two splits.
pub fn from_items(items: &[TaskItem], mc: McMode, seed: u64) -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x00c0_ffee);
    let binary = !items.is_empty() && items.iter().all(is_class_item);
    let mut examples = Vec::new();
    for it in items {
        if binary {
            examples.push(class_example(it));
            continue;
        }
        let keep: Vec<usize> = match mc {
            McMode::All => (0..it.choices.len()).collect(),
            McMode::Pair => {
                let others: Vec<usize> = (0..it.choices.len()).filter(|&c| c != it.answer).collect();
                let d = others[rng.random_range(0..others.len())];
                vec![it.answer, d]
            }
        };
        examples.extend(keep.into_iter().map(|c| candidate_example(it, c)));
    }
    let mut ds = Dataset::new(if binary { TaskKind::Binary } else { TaskKind::MultipleChoice }, examples);
    if binary && items.iter().all(|it| it.choices == items[0].choices) {
        ds.classes = Some([items[0].choices[0].trim().to_string(), items[0].choices[1].trim().to_string()]);
    }
    ds
}

/// The one example of an item whose two choices are class names: the text (the generators'
/// bare `meta.text`, else passage then question) with label `answer == 1`, grouped by its
/// normalised text.
pub fn class_example(it: &TaskItem) -> Example {
    let bare = it.meta.get("text").and_then(|v| v.as_str()).map(|s| s.trim().to_string());
    let text = match &it.passage {
        _ if bare.is_some() => bare.unwrap(),
        Some(p) if !it.question.trim().is_empty() => format!("{}\n{}", p.trim(), it.question.trim()),
        Some(p) => p.trim().to_string(),
        None => it.question.trim().to_string(),
    };
    let group = format!("t:{}", normalise(&text));
    Example { id: it.id.clone(), group, text, label: it.answer == 1, pair: None }
}

/// The example of candidate `c` of a multiple-choice item: `"{passage}\n\nQ: {question}\nA:
/// {candidate}"`, label `c` is correct, grouped by the item's content ([`item_key`]).
pub fn candidate_example(it: &TaskItem, c: usize) -> Example {
    let qa = format!("Q: {}\nA: {}", it.question.trim(), candidate_text(&it.choices, c));
    let text = match &it.passage {
        Some(p) if !p.trim().is_empty() => format!("{}\n\n{qa}", p.trim()),
        _ => qa,
    };
    Example {
        id: format!("{}/{c}", it.id),
        group: format!("q:{}", item_key(it)),
        text,
        label: c == it.answer,
        pair: None,
    }
}

/// Whether an item's choices are two class names (it becomes one [`class_example`]).
pub fn is_class_item(it: &TaskItem) -> bool {
    it.choices.len() == 2 && choices_are_classes(&it.choices)
}

/// The text of candidate `c` as a binary example shows it. A candidate that only refers to
/// the others ("None of the above choices .", Cosmos QA) means nothing on its own, so it
/// names the choices it rejects: `None of these: X; Y; Z`.
pub fn candidate_text(choices: &[String], c: usize) -> String {
    let t = choices[c].trim();
    let n = normalise(t);
    if n.starts_with("none of the above") || n == "none of these" {
        let others: Vec<&str> = choices
            .iter()
            .enumerate()
            .filter(|(k, o)| *k != c && !normalise(o).starts_with("none of the above"))
            .map(|(_, o)| o.trim())
            .collect();
        return format!("None of these: {}", others.join("; "));
    }
    t.to_string()
}

/// Split fractions (of groups).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitConfig {
    pub test: f64,
    pub val: f64,
    /// Down-sample the majority class to the minority's size before splitting (binary
    /// tasks whose groups are single examples; ignored for grouped tasks).
    pub balance: bool,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self { test: 0.2, val: 0.1, balance: false }
    }
}

/// Indices into `Dataset::examples` for each split.
///
/// `weak_train` and `strong_train` are the two disjoint halves of what remains after the
/// test and validation groups are taken (Burns et al.): the weak supervisor and nobody
/// else learns from `weak_train`'s ground truth; the ceiling learns from
/// `strong_train`'s ground truth and the student from its weak labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Splits {
    pub weak_train: Vec<usize>,
    pub strong_train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// Class counts of one split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassBalance {
    pub n: usize,
    pub positives: usize,
    /// Share of class 1.
    pub frac_pos: f64,
}

impl ClassBalance {
    pub fn of(ds: &Dataset, idx: &[usize]) -> Self {
        let positives = idx.iter().filter(|&&i| ds.examples[i].label).count();
        Self {
            n: idx.len(),
            positives,
            frac_pos: if idx.is_empty() { f64::NAN } else { positives as f64 / idx.len() as f64 },
        }
    }
}

/// Class balance of every split (and of the whole dataset).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitBalance {
    pub all: ClassBalance,
    pub weak_train: ClassBalance,
    pub strong_train: ClassBalance,
    pub val: ClassBalance,
    pub test: ClassBalance,
}

impl Splits {
    pub fn balance(&self, ds: &Dataset) -> SplitBalance {
        let all: Vec<usize> = (0..ds.examples.len()).collect();
        SplitBalance {
            all: ClassBalance::of(ds, &all),
            weak_train: ClassBalance::of(ds, &self.weak_train),
            strong_train: ClassBalance::of(ds, &self.strong_train),
            val: ClassBalance::of(ds, &self.val),
            test: ClassBalance::of(ds, &self.test),
        }
    }
}

/// Down-samples the majority class (seeded) when every group is one example; returns
/// the dataset unchanged otherwise.
pub fn balance_classes(ds: &Dataset, seed: u64) -> Dataset {
    if ds.examples.iter().any(|e| e.group != e.id) {
        return ds.clone();
    }
    let mut pos: Vec<usize> = (0..ds.examples.len()).filter(|&i| ds.examples[i].label).collect();
    let mut neg: Vec<usize> = (0..ds.examples.len()).filter(|&i| !ds.examples[i].label).collect();
    let k = pos.len().min(neg.len());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xba1a_0ce0);
    pos.shuffle(&mut rng);
    neg.shuffle(&mut rng);
    let mut keep: Vec<usize> = pos[..k].iter().chain(&neg[..k]).copied().collect();
    keep.sort_unstable();
    Dataset { examples: keep.into_iter().map(|i| ds.examples[i].clone()).collect(), ..ds.clone() }
}

/// Splits by group with a seeded shuffle: the first `test` share of groups is the test
/// split, the next `val` share validation, and the rest is halved into `weak_train` and
/// `strong_train`. Within a split, examples keep dataset order.
pub fn split(ds: &Dataset, cfg: &SplitConfig, seed: u64) -> Result<Splits> {
    split_inner(ds, cfg, seed, false)
}

/// Evaluates on a dataset's own test split (`--test FILE`): `train` is split into
/// `weak_train`, `strong_train` and `val` only (as [`split`] with no test share), and
/// `test` is appended whole as the test split (ids and groups prefixed `test/`).
/// Training examples whose normalised text occurs in `test` are dropped first; their
/// count is returned (the contamination count is then 0 by construction).
pub fn split_with_test(
    train: &Dataset,
    test: &Dataset,
    cfg: &SplitConfig,
    seed: u64,
) -> Result<(Dataset, Splits, usize)> {
    if test.kind != train.kind {
        bail!(
            "the test set is {:?} but the training set is {:?}; they must be the same kind of task",
            test.kind,
            train.kind
        );
    }
    let keys: std::collections::HashSet<String> = test.examples.iter().map(|e| normalise(&e.text)).collect();
    let mut ds = train.clone();
    let before = ds.examples.len();
    ds.examples.retain(|e| !keys.contains(&normalise(&e.text)));
    let removed = before - ds.examples.len();
    let mut s = split_inner(&ds, cfg, seed, true)?;
    let base = ds.examples.len();
    for (k, e) in test.examples.iter().enumerate() {
        ds.examples.push(Example {
            id: format!("test/{}", e.id),
            group: format!("test/{}", e.group),
            text: e.text.clone(),
            label: e.label,
            pair: e.pair.clone(),
        });
        s.test.push(base + k);
    }
    ds.duplicates_removed += test.duplicates_removed;
    ds.notes.extend(test.notes.iter().map(|n| format!("test set: {n}")));
    Ok((ds, s, removed))
}

fn split_inner(ds: &Dataset, cfg: &SplitConfig, seed: u64, no_test: bool) -> Result<Splits> {
    let cfg = &SplitConfig { test: if no_test { 0.0 } else { cfg.test }, ..*cfg };
    if !(0.0..1.0).contains(&cfg.test) || !(0.0..1.0).contains(&cfg.val) || cfg.test + cfg.val >= 1.0 {
        bail!(
            "split fractions test = {} and val = {} must be in [0, 1) and leave room for training",
            cfg.test,
            cfg.val
        );
    }
    let mut groups: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for e in &ds.examples {
        if !seen.contains_key(e.group.as_str()) {
            seen.insert(e.group.as_str(), groups.len());
            groups.push(e.group.as_str());
        }
    }
    let g = groups.len();
    let mut order: Vec<usize> = (0..g).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5b11_75ed);
    order.shuffle(&mut rng);
    let n_test = ((g as f64) * cfg.test).round() as usize;
    let n_val = ((g as f64) * cfg.val).round() as usize;
    let rest = g.saturating_sub(n_test + n_val);
    if (n_test == 0 && !no_test) || rest < 2 {
        bail!("{g} groups are too few to split into test ({n_test}), val ({n_val}) and two training halves; use more examples");
    }
    // 0 = test, 1 = val, 2 = weak_train, 3 = strong_train
    let mut which = vec![0u8; g];
    for (rank, &gi) in order.iter().enumerate() {
        which[gi] = if rank < n_test {
            0
        } else if rank < n_test + n_val {
            1
        } else if rank < n_test + n_val + rest / 2 {
            2
        } else {
            3
        };
    }
    let mut s = Splits { weak_train: vec![], strong_train: vec![], val: vec![], test: vec![] };
    for (i, e) in ds.examples.iter().enumerate() {
        match which[seen[e.group.as_str()]] {
            0 => s.test.push(i),
            1 => s.val.push(i),
            2 => s.weak_train.push(i),
            _ => s.strong_train.push(i),
        }
    }
    if s.val.is_empty() {
        // Early stopping needs validation rows; borrow them from neither training half.
        bail!("the validation split is empty: raise split.val or use more examples");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, choices: &[&str], answer: usize) -> TaskItem {
        TaskItem {
            id: id.into(),
            question: format!("question {id}"),
            choices: choices.iter().map(|s| s.to_string()).collect(),
            answer,
            passage: None,
            meta: Default::default(),
        }
    }

    #[test]
    fn sentiment_items_become_single_examples() {
        let mut a = item("a", &["negative", "positive"], 1);
        a.question = String::new();
        a.passage = Some("a fine film ".into());
        let ds = from_items(&[a, item("b", &["negative", "positive"], 0)], McMode::Pair, 0);
        assert_eq!(ds.kind, TaskKind::Binary);
        assert_eq!(ds.examples.len(), 2);
        assert_eq!(ds.examples[0].text, "a fine film");
        assert!(ds.examples[0].label && !ds.examples[1].label);
    }

    #[test]
    fn multiple_choice_pairs_keep_the_answer_and_one_distractor() {
        let items: Vec<TaskItem> = (0..20).map(|i| item(&format!("q{i}"), &["w", "x", "y", "z"], i % 4)).collect();
        let ds = from_items(&items, McMode::Pair, 3);
        assert_eq!(ds.kind, TaskKind::MultipleChoice);
        assert_eq!(ds.examples.len(), 40);
        for pair in ds.examples.chunks(2) {
            assert_eq!(pair[0].group, pair[1].group);
            assert!(pair[0].label && !pair[1].label);
        }
        let all = from_items(&items, McMode::All, 3);
        assert_eq!(all.examples.len(), 80);
        assert_eq!(all.examples.iter().filter(|e| e.label).count(), 20);
        assert!(all.examples[0].text.ends_with("Q: question q0\nA: w"));
    }

    #[test]
    fn splits_are_disjoint_grouped_and_seeded() {
        let items: Vec<TaskItem> = (0..100).map(|i| item(&format!("q{i}"), &["w", "x", "y"], i % 3)).collect();
        let ds = from_items(&items, McMode::Pair, 0);
        let cfg = SplitConfig::default();
        let s = split(&ds, &cfg, 7).unwrap();
        let total = s.weak_train.len() + s.strong_train.len() + s.val.len() + s.test.len();
        assert_eq!(total, 200);
        // 100 groups: 20 test, 10 val, 35 + 35 train → ×2 examples
        assert_eq!((s.test.len(), s.val.len(), s.weak_train.len(), s.strong_train.len()), (40, 20, 70, 70));
        let group_of =
            |v: &Vec<usize>| v.iter().map(|&i| ds.examples[i].group.clone()).collect::<std::collections::HashSet<_>>();
        let (a, b, c, d) = (group_of(&s.test), group_of(&s.val), group_of(&s.weak_train), group_of(&s.strong_train));
        assert!(
            a.is_disjoint(&b)
                && a.is_disjoint(&c)
                && a.is_disjoint(&d)
                && b.is_disjoint(&c)
                && b.is_disjoint(&d)
                && c.is_disjoint(&d)
        );
        assert_eq!(s, split(&ds, &cfg, 7).unwrap());
        assert_ne!(s, split(&ds, &cfg, 8).unwrap());
        let bal = s.balance(&ds);
        assert_eq!(bal.test.positives, 20);
        assert_eq!(bal.all.frac_pos, 0.5);
    }

    #[test]
    fn balancing_downsamples_the_majority() {
        let examples: Vec<Example> = (0..10)
            .map(|i| Example {
                id: format!("{i}"),
                group: format!("{i}"),
                text: format!("t{i}"),
                label: i < 7,
                pair: None,
            })
            .collect();
        let ds = Dataset::new(TaskKind::Binary, examples);
        let b = balance_classes(&ds, 1);
        assert_eq!(b.examples.len(), 6);
        assert_eq!(b.examples.iter().filter(|e| e.label).count(), 3);
    }

    #[test]
    fn normalised_text_dedupe_and_contamination() {
        assert_eq!(normalise("  A  fine film!\n"), "a fine film");
        assert_eq!(normalise("A fine, FILM"), normalise("a fine film"));
        let ex = |id: &str, t: &str, l: bool| Example {
            id: id.into(),
            group: format!("t:{}", normalise(t)),
            text: t.into(),
            label: l,
            pair: None,
        };
        let mut ds = Dataset::new(
            TaskKind::Binary,
            vec![
                ex("1", "Good film.", true),
                ex("2", "good  film", true),
                ex("3", "bad film", false),
                ex("4", "GOOD FILM!", false),
            ],
        );
        assert_eq!(dedupe(&mut ds), 2);
        assert_eq!(ds.examples.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["1", "3"]);
        // contamination: a test text that also occurs (normalised) in a training split
        let ds = Dataset::new(TaskKind::Binary, vec![ex("a", "x y", true), ex("b", "X, y", true), ex("c", "z", false)]);
        let s = Splits { weak_train: vec![0], strong_train: vec![2], val: vec![], test: vec![1] };
        assert_eq!(contamination(&ds, &s), 1);
        let s = Splits { weak_train: vec![1], strong_train: vec![], val: vec![], test: vec![2] };
        assert_eq!(contamination(&ds, &s), 0);
    }

    /// Regression (issue 11): `builtin:capitals` drew countries with replacement and
    /// grouped by item id, so ~58% of test positives had an exact copy in strong_train.
    #[test]
    fn generated_suites_never_leak_across_splits() {
        for (spec, n) in [
            ("builtin:capitals", 200),
            ("builtin:arithmetic", 300),
            ("builtin:reading", 200),
            ("builtin:preference", 1000),
        ] {
            let ds = load(spec, &LoadOptions { n: Some(n), ..Default::default() }).unwrap();
            let s = split(&ds, &SplitConfig::default(), 0).unwrap();
            assert_eq!(contamination(&ds, &s), 0, "{spec}");
            // no normalised text twice in the dataset
            let texts: std::collections::HashSet<String> = ds.examples.iter().map(|e| normalise(&e.text)).collect();
            assert_eq!(texts.len(), ds.examples.len(), "{spec}");
            // the correct answer of a test question never appears with the same question in training
            let key = |i: usize| ds.examples[i].group.clone();
            let train: std::collections::HashSet<String> =
                s.weak_train.iter().chain(&s.strong_train).chain(&s.val).map(|&i| key(i)).collect();
            assert!(s.test.iter().all(|&i| !train.contains(&key(i))), "{spec}");
        }
        // capitals: each country at most once, fewer items than asked when the pool is small
        let ds = load("builtin:capitals", &LoadOptions { n: Some(1000), ..Default::default() }).unwrap();
        let groups: std::collections::HashSet<&str> = ds.examples.iter().map(|e| e.group.as_str()).collect();
        assert_eq!(groups.len() * 2, ds.examples.len());
        assert!(ds.notes.iter().any(|n| n.contains("distinct questions")), "{:?}", ds.notes);
    }

    #[test]
    fn a_given_test_set_is_the_test_split_and_never_trained_on() {
        let ex = |id: &str, t: &str, l: bool| Example {
            id: id.into(),
            group: format!("t:{}", normalise(t)),
            text: t.into(),
            label: l,
            pair: None,
        };
        let train = Dataset::new(
            TaskKind::Binary,
            (0..40).map(|i| ex(&format!("{i}"), &format!("train text {i}"), i % 2 == 0)).collect(),
        );
        let mut tr = train.clone();
        tr.examples.push(ex("dup", "Test text 3!", true));
        let test = Dataset::new(
            TaskKind::Binary,
            (0..10).map(|i| ex(&format!("{i}"), &format!("test text {i}"), i % 2 == 0)).collect(),
        );
        let (ds, s, removed) = split_with_test(&tr, &test, &SplitConfig::default(), 1).unwrap();
        assert_eq!(removed, 1);
        assert_eq!(s.test.len(), 10);
        assert!(s.test.iter().all(|&i| ds.examples[i].id.starts_with("test/")));
        // 40 training groups: val 4 (10%), then two halves of 18
        assert_eq!((s.val.len(), s.weak_train.len(), s.strong_train.len()), (4, 18, 18));
        assert_eq!(contamination(&ds, &s), 0);
        let mc = Dataset::new(TaskKind::MultipleChoice, test.examples.clone());
        assert!(split_with_test(&train, &mc, &SplitConfig::default(), 1).is_err());
    }

    #[test]
    fn sampling_is_uniform_not_the_head() {
        let idx = sample_indices(1000, Some(100), 5);
        assert_eq!(idx.len(), 100);
        assert!(idx.iter().any(|&i| i >= 500), "a sample of a sorted file must not be its head");
        assert_eq!(idx, sample_indices(1000, Some(100), 5));
        assert_eq!(sample_indices(10, None, 5), (0..10).collect::<Vec<_>>());
    }
}
