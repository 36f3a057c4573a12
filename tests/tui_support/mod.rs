//! Fixtures for the UI tests: an app with the built-in keymap and themes, sessions with
//! judged debates, and a renderer that turns a frame into stable text.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use w2sd::runtime::Sampling;
use w2sd::session::*;
use w2sd::tasks::TaskItem;
use w2sd::tui::app::App;
use w2sd::tui::keymap::Keymap;
use w2sd::tui::message::{DebateEvent, ItemView, Pane, SideView};
use w2sd::tui::message::{Scan, SessionEntry};
use w2sd::tui::theme::ThemeSet;
use w2sd::tui::views;

/// An app with the built-in keymap and themes, sized `w`×`h`.
pub fn app(w: u16, h: u16) -> App {
    static ENV: std::sync::Once = std::sync::Once::new();
    // The models screen shows the cache path: make it the same on every machine.
    ENV.call_once(|| std::env::set_var("W2SD_CACHE_DIR", "/cache/w2sd"));
    let mut a = App::new(Keymap::default(), ThemeSet::builtin(), "dark");
    a.on_resize(w, h);
    a.review.roots = vec![PathBuf::from("/data/w2sd/sessions")];
    a
}

/// Draws the app on a `TestBackend` and returns the screen as text (trailing spaces
/// trimmed).
pub fn render(app: &App) -> String {
    let mut term = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    term.draw(|f| views::draw(f, app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn item_view(blind: bool) -> ItemView {
    ItemView {
        index: 2,
        total: 5,
        id: "capitals-0003".into(),
        question: "What is the capital of Australia?".into(),
        passage: None,
        source_passage: None,
        left: SideView {
            label: if blind { "Debater 1".into() } else { "Strong · qwen2.5-coder-1.5b-instruct".into() },
            role: if blind { None } else { Some("strong".into()) },
            answer: "A) Canberra".into(),
        },
        right: SideView {
            label: if blind { "Debater 2".into() } else { "Weak · qwen2.5-coder-0.5b-instruct".into() },
            role: if blind { None } else { Some("weak".into()) },
            answer: "B) Sydney".into(),
        },
        blind,
    }
}

pub const STRONG_TEXT: &str = "Canberra is the capital of Australia. It was purpose-built as a compromise between Sydney and Melbourne, the two largest cities, and Parliament House has sat there since 1927. Sydney is the largest city, but size does not make a capital.";
pub const WEAK_TEXT: &str = "Sydney is the capital because it is the biggest and best-known city in Australia, home of the Opera House and the Harbour Bridge, and most international flights arrive there.";

/// Feeds a whole debate item to the app as the worker would.
pub fn stream_item(app: &mut App, blind: bool) {
    app.on_worker(w2sd::tui::message::WorkerEvent::Debate(DebateEvent::ItemStarted(Box::new(item_view(blind)))));
    for (pane, text) in [(Pane::Left, STRONG_TEXT), (Pane::Right, WEAK_TEXT)] {
        app.on_worker(w2sd::tui::message::WorkerEvent::Debate(DebateEvent::TurnStarted { pane, round: 1 }));
        for piece in text.split_inclusive(' ') {
            app.on_worker(w2sd::tui::message::WorkerEvent::Debate(DebateEvent::Token { pane, piece: piece.into() }));
        }
        app.on_worker(w2sd::tui::message::WorkerEvent::Debate(DebateEvent::TurnDone {
            pane,
            stop_reason: "eos".into(),
            text: None,
            copied: None,
        }));
    }
    app.on_worker(w2sd::tui::message::WorkerEvent::Debate(DebateEvent::Argued));
}

fn profile(model: &str) -> DebaterProfile {
    DebaterProfile {
        name: model.into(),
        model: model.into(),
        sees_passage: true,
        max_tokens: 64,
        sampling: Sampling::default(),
        template: "debater".into(),
        block_copies: false,
    }
}

fn item(k: usize, q: &str, choices: &[&str], answer: usize) -> TaskItem {
    TaskItem {
        id: format!("capitals-{k:04}"),
        question: q.into(),
        choices: choices.iter().map(|s| s.to_string()).collect(),
        answer,
        passage: None,
        meta: Default::default(),
    }
}

/// A session of `task` with judged debates; `judge` names the human judge.
pub fn session(id: &str, created: &str, task: &str, judge: &str, ps: &[(f64, bool)]) -> Session {
    let prov = Provenance {
        tool: "w2sd".into(),
        tool_version: "0.1.0".into(),
        strong: profile("qwen2.5-coder-1.5b-instruct"),
        weak: profile("qwen2.5-coder-0.5b-instruct"),
        models: Default::default(),
        prompts: Default::default(),
        seed: 42,
        command: None,
    };
    let settings = Settings {
        task: task.into(),
        n: ps.len(),
        seed: 42,
        protocol: Protocol::Debate,
        assignment: Assignment::Assigned,
        rounds: 1,
        turn_order: TurnOrder::Sequential,
        judge: JudgeSetting::Human,
        judge_sees_passage: false,
    };
    let mut s = Session::new(id, prov, settings);
    s.created = created.into();
    s.updated = created.into();
    let qs = [
        ("What is the capital of Australia?", ["Canberra", "Sydney"]),
        ("What is the capital of Canada?", ["Ottawa", "Toronto"]),
        ("What is the capital of Turkey?", ["Ankara", "Istanbul"]),
        ("What is the capital of Brazil?", ["Brasília", "Rio de Janeiro"]),
        ("What is the capital of Switzerland?", ["Bern", "Zurich"]),
    ];
    for (k, &(p_strong, strong_correct)) in ps.iter().enumerate() {
        let (q, ch) = qs[k % qs.len()];
        let it = item(k + 1, q, &ch, 0);
        let (sa, wa) = if strong_correct { (0, 1) } else { (1, 0) };
        let d = (p_strong / (1.0 - p_strong)).ln().clamp(-4.595, 4.595);
        let p_correct = if strong_correct { p_strong } else { 1.0 - p_strong };
        s.debates.push(DebateRecord {
            index: k,
            item: it.clone(),
            strong_answer: sa,
            weak_answer: wa,
            strong_correct,
            weak_correct: None,
            first_speaker: None,
            status: DebateStatus::Judged,
            preference: None,
            turns: vec![
                Turn {
                    round: 1,
                    side: Side::Strong,
                    answer: sa,
                    text: format!("{} is the capital: it is where the government sits.", it.choices[sa]),
                    tokens: 14,
                    stop_reason: "eos".into(),
                    seconds: 1.0,
                    flags: Default::default(),
                },
                Turn {
                    round: 1,
                    side: Side::Weak,
                    answer: wa,
                    text: format!("{} is the capital because it is the best-known city.", it.choices[wa]),
                    tokens: 13,
                    stop_reason: "eos".into(),
                    seconds: 0.5,
                    flags: Default::default(),
                },
            ],
            judgements: vec![Judgement {
                kind: JudgeKind::Human,
                name: judge.into(),
                p_strong,
                orders: vec![],
                rationale: if k == 0 { Some("the strong side named the parliament".into()) } else { None },
                seconds: 12.0 + k as f64,
                blind: false,
                shuffle: None,
                d,
                log_score: p_correct.ln(),
                correct: p_correct > 0.5,
                at: created.into(),
                d_correct: None,
                upto_round: None,
            }],
        });
    }
    let n = ps.len() as f64;
    let correct = s.debates.iter().filter(|d| d.judgements[0].correct).count() as f64;
    let strong_w = ps.iter().filter(|(p, _)| *p > 0.5).count() as f64;
    let mean_d = s.debates.iter().map(|d| d.judgements[0].d).sum::<f64>() / n;
    s.scores = Some(Scores {
        judged: ps.len(),
        agreements: 0,
        judge_accuracy: correct / n,
        mean_d,
        mean_d_ci: [mean_d - 0.8, mean_d + 0.8],
        mean_log_score: -0.4,
        ece: 0.12,
        brier: 0.18,
        win_rates: WinRates {
            strong: strong_w / n,
            weak: 1.0 - strong_w / n,
            correct_side: correct / n,
            strong_when_correct: 0.8,
            strong_when_incorrect: 0.3,
        },
        neither_correct: 0,
        cancelled: 0,
        mean_d_correct: f64::NAN,
        mean_d_correct_ci: [f64::NAN; 2],
    });
    s
}

/// Two sessions as a scan of the data dir would find them.
pub fn scan() -> Scan {
    let a = session(
        "capitals-20250301T101500-s42",
        "2025-03-01T10:15:00Z",
        "builtin:capitals",
        "alice",
        &[(0.85, true), (0.25, false), (0.6, true), (0.75, false), (0.95, true)],
    );
    let b = session(
        "arithmetic-20250302T091000-s7",
        "2025-03-02T09:10:00Z",
        "builtin:arithmetic",
        "bob",
        &[(0.4, true), (0.85, true), (0.15, false)],
    );
    Scan {
        entries: vec![
            SessionEntry {
                path: PathBuf::from("/data/w2sd/sessions/capitals-20250301T101500-s42.json"),
                session: Arc::new(a),
            },
            SessionEntry {
                path: PathBuf::from("/data/w2sd/sessions/arithmetic-20250302T091000-s7.json"),
                session: Arc::new(b),
            },
        ],
        runs: vec![],
        errors: vec![],
    }
}

/// The demo experiment with a fixed output folder (the same text on every machine).
pub fn train_setup() -> w2sd::tui::workers::train::TrainSetup {
    let cfg = w2sd::w2s::config::ExperimentConfig::demo();
    w2sd::tui::workers::train::TrainSetup {
        name: "demo".into(),
        cfg,
        out: PathBuf::from("/data/w2sd/runs/sentiment-demo"),
    }
}

/// The Train screen showing the demo experiment's real plan (nothing run yet).
pub fn train_app(w: u16, h: u16) -> App {
    use w2sd::tui::message::TrainEvent;
    let mut a = app(w, h);
    a.screen = w2sd::tui::app::Screen::Train;
    let setup = train_setup();
    a.train = setup.state();
    let dir = tempfile::tempdir().unwrap();
    let exp = w2sd::w2s::pipeline::Experiment::new(setup.cfg.clone(), dir.path()).unwrap();
    let stages = w2sd::tui::workers::train::stage_plans(&exp);
    a.on_worker(w2sd::tui::message::WorkerEvent::Train(TrainEvent::Planned {
        config: setup.name.clone(),
        settings: setup.settings(),
        stages,
    }));
    a
}

/// The index of the stage named `name` in the Train screen.
pub fn stage(a: &App, name: &str) -> usize {
    a.train.stages.iter().position(|s| s.plan.name == name).unwrap_or_else(|| panic!("no stage {name}"))
}

/// An app at `w`×`h` judging a streamed capitals item as alice (a person), saving to a fixed path.
pub fn judging_app(w: u16, h: u16, blind: bool) -> App {
    let mut a = app(w, h);
    a.debate.summary = Some(w2sd::tui::views::debate::DebateSummary {
        task: "builtin:capitals".into(),
        judge: w2sd::session::JudgeSetting::Human,
        judge_name: "alice".into(),
        protocol: w2sd::session::Protocol::Debate,
        blind,
        reveal: true,
        out: "/data/w2sd/sessions/x.json".into(),
    });
    stream_item(&mut a, blind);
    a
}

/// The Debate screen's header for a person judging a plain debate of `task`.
pub fn human_summary(task: &str, judge_name: &str) -> w2sd::tui::views::debate::DebateSummary {
    w2sd::tui::views::debate::DebateSummary {
        task: task.into(),
        judge: w2sd::session::JudgeSetting::Human,
        judge_name: judge_name.into(),
        protocol: w2sd::session::Protocol::Debate,
        blind: false,
        reveal: true,
        out: String::new(),
    }
}
