//! The session file: one JSON document per debate session, versioned.
//!
//! ```text
//! Session
//! ├── version            SESSION_VERSION (files with a larger version are refused)
//! ├── id, created, updated (RFC 3339)
//! ├── provenance         tool + version, model specs and sha256, seeds, prompt templates
//! ├── settings           protocol, assignment, rounds, turn order, judge, task spec, n, seed
//! ├── debates[]          one per task item
//! │   ├── item           the TaskItem (question, choices, answer, passage, meta)
//! │   ├── strong_answer / weak_answer   indices into item.choices
//! │   ├── status         pending | argued | judged | agreement
//! │   ├── turns[]        round, side, answer, text, tokens, seconds
//! │   └── judgements[]   kind, name, p_strong, orders[], rationale, seconds, blind, shuffle, d, log_score
//! └── scores             aggregates recomputed at every save (see `debate::metrics`)
//! ```
//!
//! Probabilities are always about the **strong side's answer**: `p_strong` is the
//! judge's probability that the answer the strong side defends is the correct one
//! (the other answer gets `1 − p_strong`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::runtime::Sampling;
use crate::tasks::TaskItem;

/// The newest schema version this build reads and writes.
pub const SESSION_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub version: u32,
    /// Stable id, e.g. `reading-20250101T120000-s42`.
    pub id: String,
    /// RFC 3339 timestamps.
    pub created: String,
    pub updated: String,
    pub provenance: Provenance,
    pub settings: Settings,
    pub debates: Vec<DebateRecord>,
    /// Aggregates over the judged debates, recomputed at every save.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
}

/// Which side of a debate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Strong,
    Weak,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Strong => Side::Weak,
            Side::Weak => Side::Strong,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Strong => "strong",
            Side::Weak => "weak",
        }
    }
}

/// The debate protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Both sides argue for `rounds` rounds.
    Debate,
    /// Only the strong side argues (a consultant), defending the correct or the wrong
    /// answer at random; the weak side's answer is the alternative, undefended.
    Consultancy,
    /// No arguments at all: the judge sees only the question and the two answers.
    Blind,
}

/// How answers are given to the sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assignment {
    /// The strong side defends one answer, the weak side another; the correct answer
    /// goes to either side at random (recorded per debate).
    Assigned,
    /// Each side defends the answer its own model prefers (highest log-probability);
    /// items where both prefer the same answer are recorded as `agreement` and not debated.
    #[serde(rename = "self")]
    SelfChosen,
}

/// Whether a round's two turns see each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TurnOrder {
    /// The first speaker speaks, then the second sees that turn of the same round.
    Sequential,
    /// Both sides of a round see only the earlier rounds.
    Simultaneous,
    /// Round 1 simultaneous (neither side sees the other's opening), later rounds
    /// sequential. The default of new sessions.
    #[serde(rename = "simultaneous-first")]
    SimultaneousFirst,
}

crate::choices!(Protocol {
    Debate = "debate": "both sides argue for the given rounds",
    Consultancy = "consultancy": "only the strong side argues, for the correct or a wrong answer at random",
    Blind = "blind": "no arguments: the judge sees the question and the two answers",
});
crate::choices!(Assignment {
    Assigned = "assigned": "answers are given; the correct one goes to either side at random",
    SelfChosen = "self": "each side defends the answer its own model prefers",
});
crate::choices!(TurnOrder {
    Sequential = "sequential": "strong speaks, then weak sees strong's turn of the same round",
    Simultaneous = "simultaneous": "both sides of a round see only the earlier rounds",
    SimultaneousFirst = "simultaneous-first": "round 1 simultaneous, later rounds sequential",
});

/// A debater: a model spec plus what it sees and how it writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebaterProfile {
    /// Display name, used for Elo across sessions (defaults to the model spec).
    pub name: String,
    /// Model spec (catalog name, GGUF path or `hf:` spec).
    pub model: String,
    /// Whether the debater is shown the passage (the information gap when false).
    pub sees_passage: bool,
    /// Per-turn token budget.
    pub max_tokens: usize,
    pub sampling: Sampling,
    /// Name of the prompt template (see `debate::prompts`).
    pub template: String,
    /// Whether a local model's decoding is kept from reproducing the opponent's wording
    /// (`debate::quality::COPY_BLOCK_TOKENS` tokens in a row that are not in the passage,
    /// question or choices; see `runtime::NoCopy`). Absent in sessions made before it
    /// existed, which had no such block.
    #[serde(default)]
    pub block_copies: bool,
}

/// A loaded model as recorded in provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub spec: String,
    pub arch: String,
    pub sha256: Option<String>,
}

/// One prompt template as used: where it came from and its exact text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptRecord {
    /// `builtin` or the path of the user override.
    pub source: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `w2sd`.
    pub tool: String,
    /// The crate version that wrote the file.
    pub tool_version: String,
    pub strong: DebaterProfile,
    pub weak: DebaterProfile,
    /// Models as loaded (spec, arch, sha256), by role: `strong`, `weak`, `judge`.
    #[serde(default)]
    pub models: BTreeMap<String, ModelRecord>,
    /// Templates by name, exactly as used.
    #[serde(default)]
    pub prompts: BTreeMap<String, PromptRecord>,
    /// The seed of task generation, answer assignment and blind shuffles.
    pub seed: u64,
    /// The command line that created the session, when run from the CLI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// The judge configured for a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JudgeSetting {
    /// A model judge (log-probabilities of the answer letters, both orders averaged).
    Model { spec: String },
    /// A person judges through the TUI.
    Human,
    /// Nobody judges (transcripts only).
    None,
}

impl std::str::FromStr for JudgeSetting {
    type Err = String;
    /// `model` (a model judge whose spec is chosen later, e.g. the weak debater's), `model:SPEC`,
    /// `human` or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "model" => Ok(JudgeSetting::Model { spec: String::new() }),
            "human" => Ok(JudgeSetting::Human),
            "none" => Ok(JudgeSetting::None),
            _ => match s.strip_prefix("model:") {
                Some(spec) if !spec.is_empty() => Ok(JudgeSetting::Model { spec: spec.to_string() }),
                _ => Err(format!("unknown judge '{s}' (expected model, model:SPEC, human or none)")),
            },
        }
    }
}

impl std::fmt::Display for JudgeSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JudgeSetting::Model { spec } if spec.is_empty() => f.write_str("model"),
            JudgeSetting::Model { spec } => write!(f, "model:{spec}"),
            JudgeSetting::Human => f.write_str("human"),
            JudgeSetting::None => f.write_str("none"),
        }
    }
}

/// Protocol settings. Two runs resume into one session only if these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub task: String,
    /// Number of items requested.
    pub n: usize,
    pub seed: u64,
    pub protocol: Protocol,
    pub assignment: Assignment,
    pub rounds: usize,
    pub turn_order: TurnOrder,
    pub judge: JudgeSetting,
    /// Whether the judge is shown the passage (off by default, as in QuALITY debates).
    pub judge_sees_passage: bool,
}

/// Where a debate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DebateStatus {
    /// Not all turns written yet.
    Pending,
    /// Every turn written; waiting for a judgement.
    Argued,
    /// At least one judgement recorded.
    Judged,
    /// Self-assignment where both sides prefer the same answer: nothing to debate.
    Agreement,
}

/// One debate over one task item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebateRecord {
    /// Position in the session (0-based).
    pub index: usize,
    pub item: TaskItem,
    /// Index into `item.choices` of the answer the strong side defends.
    pub strong_answer: usize,
    /// Index into `item.choices` of the answer the weak side defends (the alternative in
    /// consultancy and blind). Equal to `strong_answer` only under `agreement`.
    pub weak_answer: usize,
    /// Whether the strong side's answer is the correct one.
    pub strong_correct: bool,
    /// Whether the weak side's answer is the correct one (`None` in older
    /// files, where [`DebateRecord::weak_is_correct`] computes it).
    /// Under self-assignment both sides can defend wrong answers: such debates are left
    /// out of the correctness metrics and counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weak_correct: Option<bool>,
    /// Who speaks first in every round (drawn at random per debate in new
    /// sessions; `None` in older files, where the strong side spoke first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_speaker: Option<Side>,
    pub status: DebateStatus,
    /// Self-assignment only: each side's log-probabilities of every choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preference: Option<Preference>,
    pub turns: Vec<Turn>,
    pub judgements: Vec<Judgement>,
}

impl DebateRecord {
    /// Whether the weak side's answer is the correct one.
    pub fn weak_is_correct(&self) -> bool {
        self.weak_correct.unwrap_or(self.weak_answer == self.item.answer)
    }
    /// Whether one of the two sides defends the correct answer (false only under
    /// self-assignment when both picked wrong answers).
    pub fn has_correct_side(&self) -> bool {
        self.strong_correct || self.weak_is_correct()
    }
    /// The side speaking first in each round.
    pub fn first(&self) -> Side {
        self.first_speaker.unwrap_or(Side::Strong)
    }
    /// Whether any turn was cancelled (such debates are left out of aggregates by default).
    pub fn has_cancelled_turn(&self) -> bool {
        self.turns.iter().any(|t| t.is_cancelled())
    }
}

/// Log-probabilities of each choice letter under each side's model (self-assignment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preference {
    pub strong_logprobs: Vec<f64>,
    pub weak_logprobs: Vec<f64>,
}

/// One turn of one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// 1-based round.
    pub round: usize,
    pub side: Side,
    /// Index into `item.choices` of the answer this turn defends.
    pub answer: usize,
    pub text: String,
    /// Generated tokens (0 for text typed by a person).
    pub tokens: usize,
    /// `eos`, `max_tokens`, `stop_string`, `cancelled`, `context_full`, or `human`.
    pub stop_reason: String,
    pub seconds: f64,
    /// Quality flags computed when the turn is recorded (absent in older files).
    #[serde(default, skip_serializing_if = "TurnFlags::is_empty")]
    pub flags: TurnFlags,
}

impl Turn {
    /// Cancelled (Esc in the UI): flagged, or recorded with stop reason `cancelled`.
    pub fn is_cancelled(&self) -> bool {
        self.flags.cancelled || self.stop_reason == "cancelled"
    }
}

/// What the protocol noticed about a turn when it was recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnFlags {
    /// The turn was cancelled before it was finished; left out of aggregates by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    /// The turn hit its token budget and was trimmed to its last complete sentence
    /// (its text ends with `…[cut]`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
    /// Share of the turn's word 5-grams found in the opponent's earlier turns
    /// (see `debate::quality::copy_overlap`); `None` when it saw no opponent turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_overlap: Option<f64>,
    /// `copy_overlap` above the threshold even after the allowed regenerations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copied: bool,
}

impl TurnFlags {
    pub fn is_empty(&self) -> bool {
        *self == TurnFlags::default()
    }
}

/// Who judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JudgeKind {
    Model,
    Human,
}

/// A model judge's reading in one presentation order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderResult {
    /// Whether the strong side's answer was shown first, as option A.
    pub strong_first: bool,
    /// Log-probabilities of the option letters `[A, B]` after the judge prompt.
    pub letter_logprobs: [f64; 2],
    /// `softmax(letter_logprobs)` at the strong side's letter.
    pub p_strong: f64,
}

/// How a blind human judge saw the sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shuffle {
    /// Whether the strong side was shown on the left (as "Debater 1").
    pub strong_left: bool,
}

/// One verdict on one debate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub kind: JudgeKind,
    /// Model spec, or the person's name.
    pub name: String,
    /// Probability that the strong side's answer is correct (order-averaged for models).
    pub p_strong: f64,
    /// Model judges: the raw result of each presentation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// Time spent judging.
    pub seconds: f64,
    /// Whether the judge saw sides shuffled and model names hidden.
    pub blind: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shuffle: Option<Shuffle>,
    /// The debate score D toward the strong side (see `debate::score::debate_score`).
    pub d: f64,
    /// `ln p(correct answer)` under this judgement; `null`/NaN when neither side defends
    /// the correct answer (self-assignment), where it is undefined.
    #[serde(with = "nullable")]
    pub log_score: f64,
    /// Whether the judge favoured the correct answer (`p_correct > 0.5`; false when
    /// neither side defends it).
    pub correct: bool,
    /// RFC 3339.
    pub at: String,
    /// D toward the truth: `clip(logit p_correct, −L, L)` (`None` when neither side is
    /// correct, and in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_correct: Option<f64>,
    /// When set, the judge read the transcript cut after this round (accuracy by round);
    /// such judgements are left out of the session aggregates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upto_round: Option<usize>,
}

/// Aggregates over the debates of one session (first judgement per judge name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
///
/// Undefined values (no judged debates, an empty group) are `NaN` in memory and `null`
/// in the file.
pub struct Scores {
    pub judged: usize,
    pub agreements: usize,
    #[serde(with = "nullable")]
    pub judge_accuracy: f64,
    #[serde(with = "nullable")]
    pub mean_d: f64,
    #[serde(with = "nullable_pair")]
    pub mean_d_ci: [f64; 2],
    #[serde(with = "nullable")]
    pub mean_log_score: f64,
    #[serde(with = "nullable")]
    pub ece: f64,
    #[serde(with = "nullable")]
    pub brier: f64,
    pub win_rates: WinRates,
    /// Judged debates left out because neither side defended the correct answer.
    #[serde(default)]
    pub neither_correct: usize,
    /// Judged debates left out because a turn was cancelled.
    #[serde(default)]
    pub cancelled: usize,
    /// Mean D toward the truth (logit of p_correct, clipped) and its bootstrap CI.
    #[serde(default = "nan", with = "nullable")]
    pub mean_d_correct: f64,
    #[serde(default = "nan_pair", with = "nullable_pair")]
    pub mean_d_correct_ci: [f64; 2],
}

fn nan() -> f64 {
    f64::NAN
}

fn nan_pair() -> [f64; 2] {
    [f64::NAN; 2]
}

/// Who the judge sided with: `p_strong > 0.5` is a strong win, `< 0.5` a weak win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinRates {
    /// Share of judged debates won by the strong side.
    #[serde(with = "nullable")]
    pub strong: f64,
    /// Share won by the weak side (`1 − strong` when there are no exact ties).
    #[serde(with = "nullable")]
    pub weak: f64,
    /// Share won by whichever side was assigned the correct answer.
    #[serde(with = "nullable")]
    pub correct_side: f64,
    /// Share won by the strong side among debates where it defended the correct answer.
    #[serde(with = "nullable")]
    pub strong_when_correct: f64,
    /// Share won by the strong side among debates where it defended the wrong answer.
    #[serde(with = "nullable")]
    pub strong_when_incorrect: f64,
}

impl Session {
    /// A new empty session at the current schema version, timestamped now.
    pub fn new(id: impl Into<String>, provenance: Provenance, settings: Settings) -> Session {
        let now = now_rfc3339();
        Session {
            version: SESSION_VERSION,
            id: id.into(),
            created: now.clone(),
            updated: now,
            provenance,
            settings,
            debates: Vec::new(),
            scores: None,
        }
    }

    /// Judged debates (status `judged`).
    pub fn judged(&self) -> impl Iterator<Item = &DebateRecord> {
        self.debates.iter().filter(|d| d.status == DebateStatus::Judged)
    }

    /// Checks what the code later indexes or computes with: every answer index within
    /// the item's choices, `strong_correct` consistent with the indices, rounds ≥ 1,
    /// probabilities in [0, 1] and every number finite. Returns `(debate index, reason)`
    /// of the first problem.
    pub fn validate(&self) -> Result<(), (usize, String)> {
        for (pos, d) in self.debates.iter().enumerate() {
            let bad = |r: String| Err((d.index, r));
            let k = d.item.choices.len();
            if d.index != pos {
                return bad(format!("index {} at position {pos}", d.index));
            }
            if k < 2 {
                return bad(format!("item {:?} has {k} choice(s); at least 2 are needed", d.item.id));
            }
            for (what, i) in
                [("answer", d.item.answer), ("strong_answer", d.strong_answer), ("weak_answer", d.weak_answer)]
            {
                if i >= k {
                    return bad(format!("{what} {i} is out of range for {k} choices"));
                }
            }
            if d.strong_correct != (d.strong_answer == d.item.answer) {
                return bad("strong_correct disagrees with strong_answer and the item's answer".into());
            }
            if d.weak_correct.is_some_and(|w| w != (d.weak_answer == d.item.answer)) {
                return bad("weak_correct disagrees with weak_answer and the item's answer".into());
            }
            for (t_i, t) in d.turns.iter().enumerate() {
                if t.answer >= k {
                    return bad(format!("turn {} defends answer {} of {k} choices", t_i + 1, t.answer));
                }
                if t.round == 0 {
                    return bad(format!("turn {} has round 0 (rounds start at 1)", t_i + 1));
                }
                if !t.seconds.is_finite() || t.flags.copy_overlap.is_some_and(|x| !x.is_finite()) {
                    return bad(format!("turn {} has a non-finite number", t_i + 1));
                }
            }
            for (j_i, j) in d.judgements.iter().enumerate() {
                if !(0.0..=1.0).contains(&j.p_strong) {
                    return bad(format!("judgement {} has p_strong {} outside [0, 1]", j_i + 1, j.p_strong));
                }
                let finite = j.d.is_finite()
                    && j.seconds.is_finite()
                    && j.d_correct.is_none_or(f64::is_finite)
                    && j.orders.iter().all(|o| o.p_strong.is_finite() && o.letter_logprobs.iter().all(|x| !x.is_nan()));
                if !finite {
                    return bad(format!("judgement {} ({}) has a non-finite number", j_i + 1, j.name));
                }
            }
        }
        Ok(())
    }
}

/// `f64` that is `null` in JSON when not finite (and `NaN` when read back from `null`).
pub mod nullable {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// `[f64; 2]` whose non-finite entries are `null` in JSON.
pub mod nullable_pair {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64; 2], s: S) -> Result<S::Ok, S::Error> {
        let o: [Option<f64>; 2] = [v[0].is_finite().then_some(v[0]), v[1].is_finite().then_some(v[1])];
        o.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
        let o = <[Option<f64>; 2]>::deserialize(d)?;
        Ok([o[0].unwrap_or(f64::NAN), o[1].unwrap_or(f64::NAN)])
    }
}

/// The current UTC time, RFC 3339 with seconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
