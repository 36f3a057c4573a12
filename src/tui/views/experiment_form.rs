//! The Train screen's new-experiment form: name, task, ladder, losses, n, seeds and test file.
//!
//! Tab completes the field under the cursor: the task and test file from the `builtin:` tasks
//! and the files and folders on disk, the ladder from `bow` and the model catalog (cached
//! models first), the losses from the known losses. Enter builds an
//! [`ExperimentConfig`] from the fields ([`ExperimentForm::draft`]: each field's syntax, then
//! the config's own [`ExperimentConfig::validate`]); a worker then makes the checks a headless
//! `w2sd train` makes before anything loads, writes `<config dir>/experiments/NAME.toml`
//! atomically and the screen opens it. The form's keys come from the keymap's `form` scope.

use std::path::Path;

use crossterm::event::KeyCode;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::message::{Effect, ExperimentDraft};
use crate::tui::theme::Theme;
use crate::w2s::config::ExperimentConfig;
use crate::w2s::loss::LossKind;

/// The form's fields, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Task,
    Ladder,
    Losses,
    N,
    Seeds,
    Test,
}

impl Field {
    pub const ALL: [Field; 7] =
        [Field::Name, Field::Task, Field::Ladder, Field::Losses, Field::N, Field::Seeds, Field::Test];

    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Task => "task",
            Field::Ladder => "ladder",
            Field::Losses => "losses",
            Field::N => "n",
            Field::Seeds => "seeds",
            Field::Test => "test file",
        }
    }

    /// What the field takes, shown under it while it has the cursor.
    pub fn hint(self) -> &'static str {
        match self {
            Field::Name => "the file name: <config>/experiments/NAME.toml (letters, digits, - _ .)",
            Field::Task => {
                "builtin:NAME, a .jsonl/.json/.csv/.tsv file (?text=F&label=F) or hf:owner/name — tab completes"
            }
            Field::Ladder => "models, weakest first, comma-separated: bow (bow:DIM), catalog models — tab completes",
            Field::Losses => "student losses, comma-separated: xent, logconf, product, kl, entropy — tab completes",
            Field::N => "source items to sample (empty: all)",
            Field::Seeds => "one seed, or several comma-separated (run one after another)",
            Field::Test => {
                "the dataset's own test split, same syntax as the task (empty: split the task) — tab completes"
            }
        }
    }

    fn index(self) -> usize {
        Field::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }
}

/// Tab completion in progress on one of this form's fields.
pub type Completion = super::completion::Completion<Field>;

#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentForm {
    /// One text per [`Field::ALL`].
    pub values: Vec<String>,
    pub focus: Field,
    pub completion: Option<Completion>,
    /// The field at fault and why, after a refused save.
    pub error: Option<(Option<Field>, String)>,
    /// The draft is being checked and written.
    pub saving: bool,
    /// Model names the ladder completes to: cached models first, then the rest of the catalog.
    pub models: Vec<String>,
    /// The folder the experiment is written to (`<config dir>/experiments`).
    pub dir: std::path::PathBuf,
}

impl ExperimentForm {
    /// A form with the demo's losses and a seed, the model list from the catalog (cached first),
    /// writing to `dir`.
    pub fn new(dir: std::path::PathBuf) -> ExperimentForm {
        use crate::runtime::{catalog, hub};
        let (mut cached, mut rest): (Vec<String>, Vec<String>) = (vec![], vec![]);
        for e in catalog::CATALOG {
            if hub::cached(e).is_some() {
                cached.push(e.name.to_string());
            } else {
                rest.push(e.name.to_string());
            }
        }
        cached.extend(rest);
        let defaults = ExperimentConfig::for_task("");
        let mut values = vec![String::new(); Field::ALL.len()];
        values[Field::Losses.index()] = defaults.losses.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
        values[Field::Seeds.index()] = defaults.seed.to_string();
        ExperimentForm { values, focus: Field::Name, completion: None, error: None, saving: false, models: cached, dir }
    }

    pub fn value(&self, f: Field) -> &str {
        &self.values[f.index()]
    }

    fn value_mut(&mut self, f: Field) -> &mut String {
        &mut self.values[f.index()]
    }

    /// The path the experiment will be written to, once it has a name.
    pub fn target(&self) -> std::path::PathBuf {
        let name = self.value(Field::Name).trim();
        self.dir.join(format!("{}.toml", if name.is_empty() { "NAME" } else { name }))
    }

    /// A key of the form's keymap scope.
    pub fn handle(&mut self, action: Action) -> Vec<Effect> {
        if self.saving {
            return vec![];
        }
        let i = self.focus.index();
        match action {
            Action::Up => self.focus = Field::ALL[(i + Field::ALL.len() - 1) % Field::ALL.len()],
            Action::Down => self.focus = Field::ALL[(i + 1) % Field::ALL.len()],
            Action::Complete => self.complete(Path::new(".")),
            Action::ClearField => {
                self.value_mut(self.focus).clear();
                self.completion = None;
            }
            Action::Submit => match self.draft() {
                Ok(d) => {
                    self.error = None;
                    self.saving = true;
                    return vec![Effect::CreateExperiment(Box::new(d))];
                }
                Err((field, why)) => {
                    if let Some(f) = field {
                        self.focus = f;
                    }
                    self.error = Some((field, why));
                }
            },
            _ => {}
        }
        vec![]
    }

    /// A typed key that is not in the form's keymap: text for the focused field.
    pub fn edit(&mut self, code: KeyCode) {
        if self.saving {
            return;
        }
        match code {
            KeyCode::Char(c) if !c.is_control() => self.value_mut(self.focus).push(c),
            KeyCode::Backspace => {
                self.value_mut(self.focus).pop();
            }
            _ => return,
        }
        self.completion = None;
    }

    /// The save was refused by the worker's checks (the task did not load, the name is taken…).
    pub fn refused(&mut self, why: String) {
        self.saving = false;
        let field = if why.contains(".toml exists") {
            Some(Field::Name)
        } else if why.contains("test set") {
            Some(Field::Test)
        } else if why.contains("task") || why.contains("file") {
            Some(Field::Task)
        } else {
            None
        };
        if let Some(f) = field {
            self.focus = f;
        }
        self.error = Some((field, why));
    }

    /// Tab on the focused field: one candidate is put in whole; several put in their common
    /// prefix, and once the token is that prefix, each tab puts in the next candidate.
    pub fn complete(&mut self, cwd: &Path) {
        let f = self.focus;
        let value = self.value(f).to_string();
        let (head, token) = split_token(f, &value);
        let models = &self.models;
        let done = super::completion::tab(&mut self.completion, f, &value, head, token, || {
            let taken: Vec<String> = list_items(head);
            candidates(f, token, cwd, models).into_iter().filter(|c| !taken.contains(c)).collect()
        });
        self.error = None;
        match done {
            Some(v) => *self.value_mut(f) = v,
            None if matches!(f, Field::Task | Field::Test | Field::Ladder | Field::Losses) => {
                self.error = Some((Some(f), format!("nothing completes {token:?}")));
            }
            None => {}
        }
    }

    /// The experiment the fields describe: each field's syntax, then [`ExperimentConfig::validate`].
    /// `Err` names the field at fault (when one is) and why.
    pub fn draft(&self) -> Result<ExperimentDraft, (Option<Field>, String)> {
        let err = |f: Field, m: String| Err((Some(f), m));
        let name = self.value(Field::Name).trim().to_string();
        if name.is_empty() {
            return err(Field::Name, "give the experiment a name (its file is <config>/experiments/NAME.toml)".into());
        }
        if name.starts_with('.') || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return err(Field::Name, format!("{name:?}: use letters, digits, '-', '_' and '.' only"));
        }
        let task = self.value(Field::Task).trim().to_string();
        if task.is_empty() {
            return err(Field::Task, "give a task: builtin:NAME or a data file (tab completes)".into());
        }
        let mut cfg = ExperimentConfig::for_task(&task);
        cfg.ladder = list_items(self.value(Field::Ladder));
        let mut losses = vec![];
        for l in list_items(self.value(Field::Losses)) {
            match l.parse::<LossKind>() {
                Ok(k) => losses.push(k),
                Err(e) => return err(Field::Losses, format!("{e:#}")),
            }
        }
        cfg.losses = losses;
        let n = self.value(Field::N).trim();
        if !n.is_empty() {
            match n.parse::<usize>() {
                Ok(v) if v >= 1 => cfg.task.n = Some(v),
                _ => return err(Field::N, format!("n must be a whole number of at least 1, not {n:?}")),
            }
        }
        let mut seeds = vec![];
        for s in list_items(self.value(Field::Seeds)) {
            match s.parse::<u64>() {
                Ok(v) => seeds.push(v),
                Err(_) => return err(Field::Seeds, format!("seed {s:?} is not a whole number")),
            }
        }
        match seeds.as_slice() {
            [] => {}
            [one] => cfg.seed = *one,
            _ => cfg.seeds = Some(seeds),
        }
        let test = self.value(Field::Test).trim();
        if !test.is_empty() {
            cfg.task.test = Some(test.to_string());
        }
        if let Err(e) = cfg.validate() {
            let msg = format!("{e:#}");
            let field = if msg.contains("ladder") {
                Some(Field::Ladder)
            } else if msg.contains("loss") {
                Some(Field::Losses)
            } else if msg.contains("seed") {
                Some(Field::Seeds)
            } else {
                None
            };
            return Err((field, msg));
        }
        Ok(ExperimentDraft { name, cfg, path: self.dir.join(format!("{}.toml", self.value(Field::Name).trim())) })
    }
}

/// A list field's items: split at commas, arrows and spaces.
fn list_items(s: &str) -> Vec<String> {
    s.split([',', ' ', '→']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

/// The text before the token being completed, and the token: the whole value for the task and
/// test file, the last item of a list field.
fn split_token(f: Field, value: &str) -> (&str, &str) {
    match f {
        Field::Ladder | Field::Losses => {
            let at = value.rfind([',', ' ']).map(|i| i + 1).unwrap_or(0);
            value.split_at(at)
        }
        _ => value.split_at(0),
    }
}

/// What `token` may complete to in field `f`: builtin tasks and data files or folders under
/// `cwd` (task, test file), `bow` and `models` (ladder), the losses.
pub fn candidates(f: Field, token: &str, cwd: &Path, models: &[String]) -> Vec<String> {
    let starts = |c: &String| c.starts_with(token);
    match f {
        Field::Task | Field::Test => {
            let mut v: Vec<String> =
                crate::w2s::data::builtin_specs().into_iter().filter(|c| c.starts_with(token)).collect();
            if !token.starts_with("builtin:") && !token.starts_with("hf:") {
                v.extend(path_candidates(token, cwd));
            }
            v
        }
        Field::Ladder => {
            std::iter::once("bow".to_string()).chain(models.iter().cloned()).filter(|c| starts(c)).collect()
        }
        Field::Losses => LossKind::ALL.iter().map(|l| l.to_string()).filter(|c| starts(c)).collect(),
        _ => vec![],
    }
}

/// Data files (`.jsonl .json .csv .tsv`) and folders (`NAME/`) whose path starts with `token`,
/// relative to `cwd` unless `token` is absolute; hidden ones only when the token asks for them.
pub fn path_candidates(token: &str, cwd: &Path) -> Vec<String> {
    let (dir, prefix) = match token.rfind('/') {
        Some(i) => (&token[..=i], &token[i + 1..]),
        None => ("", token),
    };
    let base = if dir.is_empty() {
        cwd.to_path_buf()
    } else if Path::new(dir).is_absolute() {
        dir.into()
    } else {
        cwd.join(dir)
    };
    let Ok(rd) = std::fs::read_dir(&base) else { return vec![] };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let p = e.path();
            if p.is_dir() {
                Some(format!("{dir}{name}/"))
            } else if p.extension().is_some_and(|x| ["jsonl", "json", "csv", "tsv"].iter().any(|k| x == *k)) {
                Some(format!("{dir}{name}"))
            } else {
                None
            }
        })
        .collect();
    v.sort();
    v
}

/// The form over the Train screen's body: one line per field (the focused one with its hint or
/// its completions), the refusal if any, and the form's keys from the keymap.
pub fn draw(f: &mut Frame, area: Rect, form: &ExperimentForm, keys: Line<'static>, t: &Theme) {
    let title = if form.saving {
        " New experiment · checking the task and saving… ".to_string()
    } else {
        format!(" New experiment → {} ", form.target().display())
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
    for field in Field::ALL {
        let here = field == form.focus;
        let label = Span::styled(format!(" {:<10}", field.label()), if here { t.key_style() } else { t.dimmed() });
        let mut spans = vec![
            label,
            Span::styled(form.value(field).to_string(), if here { t.selected() } else { Style::default() }),
        ];
        if here {
            spans.push(Span::styled("▏", Style::default().fg(t.accent)));
        }
        lines.push(Line::from(spans));
        if !here {
            continue;
        }
        match &form.completion {
            Some(c) if c.field == field => {
                // As many candidates as fit on one line (the one put in last stays in view).
                let room = (fields_area.width as usize).saturating_sub(11 + 10);
                let start = c.index.map(|i| i.saturating_sub(3)).unwrap_or(0);
                let mut spans = vec![Span::raw("           ")];
                let mut used = 0;
                let mut shown = 0;
                for (i, cand) in c.candidates.iter().enumerate().skip(start) {
                    let w = cand.chars().count() + 2;
                    if used + w > room && shown > 0 {
                        break;
                    }
                    let style = if Some(i) == c.index { t.selected() } else { Style::default().fg(t.accent) };
                    spans.push(Span::styled(cand.clone(), style));
                    spans.push(Span::raw("  "));
                    used += w;
                    shown += 1;
                }
                let hidden = c.candidates.len() - shown;
                if hidden > 0 {
                    spans.push(Span::styled(format!("(+{hidden} more)"), t.dimmed()));
                }
                lines.push(Line::from(spans));
            }
            _ => lines.push(Line::from(vec![Span::raw("           "), Span::styled(field.hint(), t.dimmed())])),
        }
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), fields_area);
    if let Some((field, why)) = &form.error {
        let style = Style::default().fg(t.bad).add_modifier(Modifier::BOLD);
        let text = match field {
            Some(fl) => format!("{}: {why}", fl.label()),
            None => why.clone(),
        };
        f.render_widget(Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: true }), error_area);
    }
    f.render_widget(Paragraph::new(keys), keys_area);
}
