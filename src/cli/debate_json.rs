//! The `--json` outputs of the debate commands (`debate run|judge|compare`, `sessions
//! list|stats|export`, `facilitate`): one `Serialize` type each. Non-finite numbers (a score
//! with nothing to score) serialize as `null`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::debate::compare::Comparison;
use crate::debate::facilitate::FacilitationReport;
use crate::debate::metrics::{self, JudgeAgreement, PositionBias, Rating, TurnQuality};
use crate::session::{DebateStatus, Protocol, Scores, Session, TurnOrder, WinRates};

/// The headline scores every session output carries (flattened into it).
#[derive(Serialize)]
pub struct ScoreFields {
    pub judged: usize,
    pub agreements: usize,
    pub judge_accuracy: f64,
    pub mean_d: f64,
    pub mean_d_ci: [f64; 2],
    pub mean_log_score: f64,
    pub ece: f64,
    pub brier: f64,
    pub win_rates: WinRates,
}

impl ScoreFields {
    pub fn of(sc: &Scores) -> Self {
        ScoreFields {
            judged: sc.judged,
            agreements: sc.agreements,
            judge_accuracy: sc.judge_accuracy,
            mean_d: sc.mean_d,
            mean_d_ci: sc.mean_d_ci,
            mean_log_score: sc.mean_log_score,
            ece: sc.ece,
            brier: sc.brier,
            win_rates: sc.win_rates.clone(),
        }
    }
}

/// `w2sd debate run --json`.
#[derive(Serialize)]
pub struct RunOutput<'a> {
    pub path: &'a Path,
    pub session_id: &'a str,
    pub debates: usize,
    #[serde(flatten)]
    pub scores: ScoreFields,
    pub wall_s: f64,
}

impl<'a> RunOutput<'a> {
    pub fn new(path: &'a Path, s: &'a Session, sc: &'a Scores, wall_s: f64) -> Self {
        RunOutput { path, session_id: &s.id, debates: s.debates.len(), scores: ScoreFields::of(sc), wall_s }
    }
}

/// `w2sd debate judge --json`.
#[derive(Serialize)]
pub struct JudgeOutput<'a> {
    pub path: &'a Path,
    pub added: usize,
    pub judge: &'a str,
    pub kappa: Vec<JudgeAgreement>,
}

/// One row of `w2sd sessions list --json`: a session, or a file that does not load.
#[derive(Serialize)]
#[serde(untagged)]
pub enum SessionRow {
    Session {
        path: PathBuf,
        id: String,
        task: String,
        protocol: Protocol,
        strong: String,
        weak: String,
        n: usize,
        debates: usize,
        judged: usize,
        updated: String,
    },
    Error {
        path: PathBuf,
        error: String,
    },
}

impl SessionRow {
    pub fn of(path: PathBuf, s: Session) -> Self {
        let judged = s.debates.iter().filter(|d| d.status == DebateStatus::Judged).count();
        SessionRow::Session {
            path,
            id: s.id,
            task: s.settings.task,
            protocol: s.settings.protocol,
            strong: s.provenance.strong.name,
            weak: s.provenance.weak.name,
            n: s.settings.n,
            debates: s.debates.len(),
            judged,
            updated: s.updated,
        }
    }
}

/// `w2sd sessions list --json`.
#[derive(Serialize)]
pub struct SessionList<'a> {
    pub dir: &'a Path,
    pub sessions: &'a [SessionRow],
}

/// One session of `w2sd sessions stats --json`. With one session, the ratings are in it.
#[derive(Serialize)]
pub struct SessionStats<'a> {
    pub path: &'a Path,
    pub session_id: &'a str,
    pub task: &'a str,
    pub protocol: Protocol,
    pub strong: &'a str,
    pub weak: &'a str,
    /// The judge whose verdicts were used (`null`: each debate's first judgement).
    pub judge: Option<&'a str>,
    #[serde(flatten)]
    pub scores: ScoreFields,
    pub neither_correct: usize,
    pub cancelled: usize,
    pub mean_d_correct: f64,
    pub mean_d_correct_ci: [f64; 2],
    pub kappa: Vec<JudgeAgreement>,
    pub position_bias: Vec<PositionBias>,
    pub turn_quality: Vec<TurnQuality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratings: Option<Vec<Rating>>,
}

impl<'a> SessionStats<'a> {
    pub fn new(path: &'a Path, s: &'a Session, judge: Option<&'a str>, filter: metrics::Filter) -> Self {
        let sc = metrics::session_scores_filtered(s, judge, filter);
        SessionStats {
            path,
            session_id: &s.id,
            task: &s.settings.task,
            protocol: s.settings.protocol,
            strong: &s.provenance.strong.name,
            weak: &s.provenance.weak.name,
            judge,
            scores: ScoreFields::of(&sc),
            neither_correct: sc.neither_correct,
            cancelled: sc.cancelled,
            mean_d_correct: sc.mean_d_correct,
            mean_d_correct_ci: sc.mean_d_correct_ci,
            kappa: metrics::judge_agreement(s),
            position_bias: metrics::position_bias(s),
            turn_quality: metrics::turn_quality(s),
            ratings: None,
        }
    }
}

/// `w2sd sessions stats --json` over several sessions.
#[derive(Serialize)]
pub struct StatsOutput<'a> {
    pub sessions: Vec<SessionStats<'a>>,
    pub ratings: Vec<Rating>,
}

/// The wrong-explanation control of [`FacilitateOutput`].
#[derive(Serialize)]
pub struct FacilitationControl {
    pub n: usize,
    pub phi_p: f64,
    pub phi_p_ci: [f64; 2],
    pub phi_acc: f64,
    pub phi_acc_ci: [f64; 2],
}

/// `w2sd facilitate --json`.
#[derive(Serialize)]
pub struct FacilitateOutput<'a> {
    pub task: &'a str,
    pub n: usize,
    pub weak_alone: f64,
    pub weak_with_strong: f64,
    pub gain: f64,
    pub gain_ci: [f64; 2],
    pub strong_alone: f64,
    pub mean_p_correct_alone: f64,
    pub mean_p_correct_with: f64,
    pub phi_p: f64,
    pub phi_p_ci: [f64; 2],
    /// Φ in accuracy (the same number as `gain`).
    pub phi_acc: f64,
    pub phi_acc_ci: [f64; 2],
    pub control_wrong_explanation: FacilitationControl,
    pub out: Option<&'a Path>,
    pub wall_s: f64,
}

impl<'a> FacilitateOutput<'a> {
    pub fn new(rep: &'a FacilitationReport, out: Option<&'a Path>, wall_s: f64) -> Self {
        FacilitateOutput {
            task: &rep.task,
            n: rep.n,
            weak_alone: rep.weak_alone,
            weak_with_strong: rep.weak_with_strong,
            gain: rep.gain,
            gain_ci: rep.gain_ci,
            strong_alone: rep.strong_alone,
            mean_p_correct_alone: rep.mean_p_correct_alone,
            mean_p_correct_with: rep.mean_p_correct_with,
            phi_p: rep.phi_p,
            phi_p_ci: rep.phi_p_ci,
            phi_acc: rep.gain,
            phi_acc_ci: rep.gain_ci,
            control_wrong_explanation: FacilitationControl {
                n: rep.n_control,
                phi_p: rep.phi_p_wrong,
                phi_p_ci: rep.phi_p_wrong_ci,
                phi_acc: rep.phi_acc_wrong,
                phi_acc_ci: rep.phi_acc_wrong_ci,
            },
            out,
            wall_s,
        }
    }
}

/// One protocol's session file in [`CompareOutput`].
#[derive(Serialize)]
pub struct CompareFile<'a> {
    pub protocol: &'a str,
    pub path: &'a Path,
}

/// Debater quality under one protocol with arguments, in [`CompareOutput`].
#[derive(Serialize)]
pub struct ProtocolQuality<'a> {
    pub protocol: &'a str,
    pub turns: Vec<TurnQuality>,
    pub position_bias: Vec<PositionBias>,
}

/// The judge's position bias under a protocol without arguments, in [`CompareOutput`].
#[derive(Serialize)]
pub struct BlindBias<'a> {
    pub protocol: &'a str,
    pub position_bias: Vec<PositionBias>,
}

/// `w2sd debate compare --json`.
#[derive(Serialize)]
pub struct CompareOutput<'a> {
    pub task: &'a str,
    pub n_requested: usize,
    pub seed: u64,
    pub strong: &'a str,
    pub weak: &'a str,
    pub judge: &'a str,
    pub rounds: usize,
    pub turn_order: TurnOrder,
    pub files: Vec<CompareFile<'a>>,
    pub comparison: &'a Comparison,
    pub quality: Vec<ProtocolQuality<'a>>,
    pub blind_position_bias: Vec<BlindBias<'a>>,
    pub wall_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Session {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json");
        crate::session::load(&p).unwrap()
    }

    #[test]
    fn scores_with_nothing_to_score_are_null() {
        let mut s = shipped();
        s.debates.clear();
        let st = SessionStats::new(Path::new("x.json"), &s, None, metrics::Filter::default());
        let v = serde_json::to_value(&st).unwrap();
        assert_eq!(v["judged"], 0);
        assert!(v["judge_accuracy"].is_null() && v["mean_d_ci"][0].is_null(), "{v}");
        assert!(v.get("ratings").is_none());
    }
}
