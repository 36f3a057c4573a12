//! The Debate screen's setup form: task, strong, weak, judge, protocol, rounds, assignment, turn
//! order, blind, information gap, what the judge sees, max tokens, n and seed, filled from the
//! last setup (`<config dir>/debate.toml`).
//!
//! Tab completes the task (the `builtin:` debate tasks, data files), the debaters and the judge
//! (the model catalog; `human` for the judge) and steps through the options of a choice field.
//! Enter turns the fields into a [`DebateSetup`] (each field's syntax here); a worker then makes
//! the checks `w2sd judge` makes before anything loads (the command line's own function, given to
//! the UI at start), remembers the setup, and the screen starts the debate on the debate worker.
//! The form's keys are the keymap's `form` scope, as on the Train screen's new-experiment form.

use std::path::Path;

use crossterm::event::KeyCode;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::session::{Assignment, Protocol, TurnOrder};
use crate::tui::action::Action;
use crate::tui::message::{DebateSetup, Effect};
use crate::tui::theme::Theme;
use crate::tui::views::completion::{self, Completion};
use crate::tui::views::experiment_form::path_candidates;
use w2sd_engine::choice::Choice;

/// The fields, in order: (label, what it takes).
pub const FIELDS: [(&str, &str); 14] = [
    ("task", "builtin:NAME or a .jsonl file of items — tab completes"),
    ("strong", "the strong debater: a profile or a model spec — tab completes catalog models"),
    ("weak", "the weak debater: a profile or a model spec — tab completes"),
    ("judge", "human (you judge), or a model spec for a model judge — tab completes"),
    ("protocol", "debate, consultancy or blind — tab steps through them"),
    ("rounds", "rounds of arguments (0 only with the blind protocol)"),
    ("assignment", "how sides get their answers — tab steps through them"),
    ("turn order", "whether a round's two turns see each other — tab steps through them"),
    ("blind", "yes: shuffle the sides and hide the model names — tab switches"),
    ("info gap", "which debaters are denied the passage (the information gap) — tab steps through them"),
    ("judge sees", "passage: the judge reads the passage too; no-passage: question and arguments — tab switches"),
    ("max tokens", "per-turn token budget of debaters given as model specs"),
    ("n", "items to debate"),
    ("seed", "items, assignment and sampling"),
];

const TASK: usize = 0;
const STRONG: usize = 1;
const WEAK: usize = 2;
const JUDGE: usize = 3;
const PROTOCOL: usize = 4;
const ROUNDS: usize = 5;
const ASSIGNMENT: usize = 6;
const TURN_ORDER: usize = 7;
const BLIND: usize = 8;
const INFO_GAP: usize = 9;
const JUDGE_SEES: usize = 10;
const MAX_TOKENS: usize = 11;
const N: usize = 12;
const SEED: usize = 13;

/// The information-gap options: (name, strong denied the passage, weak denied it), as the flags
/// `--strong-no-passage` and `--weak-no-passage` of `w2sd judge` set them.
const INFO_GAPS: [(&str, bool, bool); 4] = [
    ("none", false, false),
    ("weak-no-passage", false, true),
    ("strong-no-passage", true, false),
    ("both-no-passage", true, true),
];

/// What the judge sees: (name, `--judge-sees-passage`).
const JUDGE_SEES_OPTIONS: [(&str, bool); 2] = [("no-passage", false), ("passage", true)];

fn names<T: Choice>() -> Vec<String> {
    T::ALL.iter().map(|c| c.name().to_string()).collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct DebateForm {
    /// One text per [`FIELDS`].
    pub values: Vec<String>,
    pub focus: usize,
    /// Tab completion in progress on the focused field.
    pub completion: Option<Completion<usize>>,
    /// The field at fault (if one) and why, after a refused start.
    pub error: Option<(Option<usize>, String)>,
    /// The setup is being checked.
    pub checking: bool,
    /// Model names the debaters and judge complete to (the catalog).
    pub models: Vec<String>,
}

impl DebateForm {
    /// A form filled from `s` (the remembered setup, or the defaults).
    pub fn new(s: &DebateSetup) -> DebateForm {
        let values = vec![
            s.task.clone(),
            s.strong.clone(),
            s.weak.clone(),
            s.judge.clone(),
            s.protocol.name().to_string(),
            s.rounds.to_string(),
            s.assignment.name().to_string(),
            s.turn_order.name().to_string(),
            if s.blind { "yes" } else { "no" }.to_string(),
            INFO_GAPS
                .iter()
                .find(|g| (g.1, g.2) == (s.strong_no_passage, s.weak_no_passage))
                .map_or("none", |g| g.0)
                .to_string(),
            JUDGE_SEES_OPTIONS.iter().find(|o| o.1 == s.judge_sees_passage).map_or("no-passage", |o| o.0).to_string(),
            s.max_tokens.to_string(),
            s.n.to_string(),
            s.seed.to_string(),
        ];
        let models = crate::runtime::catalog::CATALOG.iter().map(|e| e.name.to_string()).collect();
        DebateForm { values, focus: 0, completion: None, error: None, checking: false, models }
    }

    /// The options of a choice field, or `None` for a text field.
    fn options(field: usize) -> Option<Vec<String>> {
        match field {
            PROTOCOL => Some(names::<Protocol>()),
            ASSIGNMENT => Some(names::<Assignment>()),
            TURN_ORDER => Some(names::<TurnOrder>()),
            BLIND => Some(vec!["no".into(), "yes".into()]),
            INFO_GAP => Some(INFO_GAPS.iter().map(|g| g.0.to_string()).collect()),
            JUDGE_SEES => Some(JUDGE_SEES_OPTIONS.iter().map(|o| o.0.to_string()).collect()),
            _ => None,
        }
    }

    /// A key of the form's keymap scope.
    pub fn handle(&mut self, action: Action) -> Vec<Effect> {
        if self.checking {
            return vec![];
        }
        let n = FIELDS.len();
        match action {
            Action::Up => self.focus = (self.focus + n - 1) % n,
            Action::Down => self.focus = (self.focus + 1) % n,
            Action::Complete => self.complete(Path::new(".")),
            Action::ClearField => {
                self.values[self.focus].clear();
                self.completion = None;
            }
            Action::Submit => match self.setup() {
                Ok(s) => {
                    self.error = None;
                    self.checking = true;
                    return vec![Effect::CheckDebate(Box::new(s))];
                }
                Err((field, why)) => {
                    self.focus = field;
                    self.error = Some((Some(field), why));
                }
            },
            _ => {}
        }
        vec![]
    }

    /// A typed key that is not in the form's keymap: text for the focused field.
    pub fn edit(&mut self, code: KeyCode) {
        if self.checking {
            return;
        }
        match code {
            KeyCode::Char(c) if !c.is_control() => self.values[self.focus].push(c),
            KeyCode::Backspace => {
                self.values[self.focus].pop();
            }
            _ => return,
        }
        self.completion = None;
    }

    /// The checks refused the setup: the form stays, with the reason.
    pub fn refused(&mut self, why: String) {
        self.checking = false;
        let field = if why.contains("task") {
            Some(TASK)
        } else if why.contains("--rounds") {
            Some(ROUNDS)
        } else if why.contains("--max-tokens") {
            Some(MAX_TOKENS)
        } else {
            None
        };
        if let Some(f) = field {
            self.focus = f;
        }
        self.error = Some((field, why));
    }

    /// Tab: a choice field steps to its next option; a text field completes as the
    /// new-experiment form does (one candidate whole, else the common prefix, then each tab the
    /// next candidate).
    pub fn complete(&mut self, cwd: &Path) {
        let f = self.focus;
        let value = self.values[f].clone();
        self.error = None;
        if let Some(opts) = Self::options(f) {
            let next = opts.iter().position(|o| *o == value.trim()).map(|i| (i + 1) % opts.len()).unwrap_or(0);
            self.values[f] = opts[next].clone();
            self.completion =
                Some(Completion { field: f, applied: opts[next].clone(), candidates: opts, index: Some(next) });
            return;
        }
        let models = &self.models;
        let done = completion::tab(&mut self.completion, f, &value, "", &value, || match f {
            TASK => {
                let mut v: Vec<String> = crate::tasks::BUILTIN_SUITES
                    .iter()
                    .map(|n| format!("builtin:{n}"))
                    .filter(|c| c.starts_with(&value))
                    .collect();
                if !value.starts_with("builtin:") {
                    v.extend(path_candidates(&value, cwd));
                }
                v
            }
            STRONG | WEAK => models.iter().filter(|m| m.starts_with(&value)).cloned().collect(),
            JUDGE => std::iter::once("human".to_string())
                .chain(models.iter().cloned())
                .filter(|m| m.starts_with(&value))
                .collect(),
            _ => vec![],
        });
        match done {
            Some(v) => self.values[f] = v,
            None if matches!(f, TASK | STRONG | WEAK | JUDGE) => {
                self.error = Some((Some(f), format!("nothing completes {value:?}")));
            }
            None => {}
        }
    }

    /// The setup the fields describe (each field's syntax); `Err` names the field and why.
    pub fn setup(&self) -> Result<DebateSetup, (usize, String)> {
        let v = |i: usize| self.values[i].trim().to_string();
        let choice = |i: usize| -> Result<String, (usize, String)> {
            let opts = Self::options(i).unwrap_or_default();
            if opts.contains(&v(i)) {
                Ok(v(i))
            } else {
                Err((i, format!("{:?} is not one of {} (tab steps through them)", v(i), opts.join(", "))))
            }
        };
        let number = |i: usize, min: u64| -> Result<u64, (usize, String)> {
            match v(i).parse::<u64>() {
                Ok(x) if x >= min => Ok(x),
                _ => Err((i, format!("{} must be a whole number of at least {min}, not {:?}", FIELDS[i].0, v(i)))),
            }
        };
        for (i, what) in [(TASK, "a task"), (STRONG, "a strong debater"), (WEAK, "a weak debater"), (JUDGE, "a judge")]
        {
            if v(i).is_empty() {
                return Err((i, format!("give {what} (tab completes)")));
            }
        }
        let gap = choice(INFO_GAP)?;
        let (_, strong_no_passage, weak_no_passage) =
            INFO_GAPS.iter().copied().find(|g| g.0 == gap).unwrap_or(INFO_GAPS[0]);
        let judge_sees_passage = choice(JUDGE_SEES)? == "passage";
        Ok(DebateSetup {
            task: v(TASK),
            strong: v(STRONG),
            weak: v(WEAK),
            judge: v(JUDGE),
            protocol: Protocol::from_name(&choice(PROTOCOL)?).unwrap_or(Protocol::Debate),
            rounds: number(ROUNDS, 0)? as usize,
            assignment: Assignment::from_name(&choice(ASSIGNMENT)?).unwrap_or(Assignment::Assigned),
            turn_order: TurnOrder::from_name(&choice(TURN_ORDER)?).unwrap_or(TurnOrder::SimultaneousFirst),
            blind: choice(BLIND)? == "yes",
            strong_no_passage,
            weak_no_passage,
            judge_sees_passage,
            max_tokens: number(MAX_TOKENS, 1)? as usize,
            n: number(N, 1)? as usize,
            seed: number(SEED, 0)?,
        })
    }
}

/// The form over the Debate screen's body.
pub fn draw(f: &mut Frame, area: Rect, form: &DebateForm, keys: Line<'static>, t: &Theme) {
    let title = if form.checking {
        " New debate · checking the task and the models… ".to_string()
    } else {
        " New debate · the last setup is remembered ".to_string()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_style(true))
        .title(Span::styled(title, t.title_style()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [fields_area, error_area, keys_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(3), Constraint::Length(1)]).areas(inner);
    let mut lines: Vec<Line> = Vec::new();
    for (i, (label, hint)) in FIELDS.iter().enumerate() {
        let here = i == form.focus;
        let mut spans = vec![
            Span::styled(format!(" {label:<11}"), if here { t.key_style() } else { t.dimmed() }),
            Span::styled(form.values[i].clone(), if here { t.selected() } else { Style::default() }),
        ];
        if here {
            spans.push(Span::styled("▏", Style::default().fg(t.accent)));
        }
        lines.push(Line::from(spans));
        if !here {
            continue;
        }
        let mut under = vec![Span::raw("            ")];
        match &form.completion {
            Some(Completion { field, candidates: cands, index, .. }) if *field == i => {
                let room = (fields_area.width as usize).saturating_sub(12 + 10);
                let mut used = 0;
                for (k, c) in cands.iter().enumerate() {
                    let w = c.chars().count() + 2;
                    if used + w > room && used > 0 {
                        under.push(Span::styled(format!("(+{} more)", cands.len() - k), t.dimmed()));
                        break;
                    }
                    let style = if Some(k) == *index { t.selected() } else { Style::default().fg(t.accent) };
                    under.push(Span::styled(c.clone(), style));
                    under.push(Span::raw("  "));
                    used += w;
                }
            }
            _ => under.push(Span::styled(*hint, t.dimmed())),
        }
        lines.push(Line::from(under));
    }
    f.render_widget(Paragraph::new(lines), fields_area);
    if let Some((field, why)) = &form.error {
        let style = Style::default().fg(t.bad).add_modifier(Modifier::BOLD);
        let text = match field {
            Some(i) => format!("{}: {why}", FIELDS[*i].0),
            None => why.clone(),
        };
        f.render_widget(Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: true }), error_area);
    }
    f.render_widget(Paragraph::new(keys), keys_area);
}
