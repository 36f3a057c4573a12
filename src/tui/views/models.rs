//! The Models screen: what the catalog holds, what is cached, the device in use, and
//! pulling a model with a progress bar.

use std::collections::BTreeMap;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Gauge, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::runtime::PullProgress;
use crate::tui::action::Action;
use crate::tui::message::Effect;
use crate::tui::message::ModelRow;
use crate::tui::theme::Theme;
use crate::tui::widgets::rows::{inside, Rows};

/// A pull in progress or finished.
#[derive(Debug, Clone, PartialEq)]
pub struct PullState {
    pub stage: String,
    pub done: u64,
    pub total: Option<u64>,
    /// `Some(Ok)` when finished, `Some(Err(reason))` when it failed.
    pub finished: Option<Result<(), String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelsState {
    pub rows: Vec<ModelRow>,
    pub device: String,
    pub selected: usize,
    /// The first row the catalog shows, where it was last drawn (`App` keeps it after every event).
    pub first: usize,
    /// Listing in progress.
    pub loading: bool,
    pub error: Option<String>,
    pub pulls: BTreeMap<String, PullState>,
}

impl ModelsState {
    pub fn pulling(&self) -> bool {
        self.pulls.values().any(|p| p.finished.is_none())
    }

    pub fn handle(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = self.rows.len().saturating_sub(1),
            Action::Refresh => {
                self.loading = true;
                return vec![Effect::ListModels];
            }
            Action::Pull => {
                if let Some(r) = self.rows.get(self.selected) {
                    return self.start_pull(vec![r.name.clone()]);
                }
            }
            Action::PullDefaults => {
                return self.start_pull(crate::runtime::catalog::DEFAULT_SET.iter().map(|s| s.to_string()).collect());
            }
            _ => {}
        }
        vec![]
    }

    /// A left click at (`col`, `row`) on the screen drawn in `area`: on a row of the catalog it
    /// selects that model. (It pulls nothing: a download is for the pull key.)
    pub fn click(&mut self, col: u16, row: u16, area: Rect) {
        let Some(rows) = catalog_rows(area, self) else { return };
        if let Some(i) = rows.at(col, row, self.rows.len()) {
            self.selected = i;
            self.first = rows.first;
        }
    }

    fn start_pull(&mut self, names: Vec<String>) -> Vec<Effect> {
        let names: Vec<String> =
            names.into_iter().filter(|n| self.pulls.get(n).is_none_or(|p| p.finished.is_some())).collect();
        if names.is_empty() {
            return vec![];
        }
        for n in &names {
            self.pulls.insert(n.clone(), PullState { stage: "queued".into(), done: 0, total: None, finished: None });
        }
        vec![Effect::Pull(names)]
    }

    pub fn on_progress(&mut self, p: &PullProgress) {
        let e = self.pulls.entry(p.model.clone()).or_insert(PullState {
            stage: String::new(),
            done: 0,
            total: None,
            finished: None,
        });
        e.stage = p.stage.clone();
        e.done = p.done;
        e.total = p.total;
    }

    /// Returns true when every pull is finished (the list should be refreshed).
    pub fn on_pull_done(&mut self, name: &str, result: &Result<std::path::PathBuf, String>) -> bool {
        let e = self.pulls.entry(name.to_string()).or_insert(PullState {
            stage: String::new(),
            done: 0,
            total: None,
            finished: None,
        });
        e.finished = Some(result.as_ref().map(|_| ()).map_err(|s| s.clone()));
        if result.is_ok() {
            e.stage = "done".into();
        }
        !self.pulling()
    }
}

fn human_bytes(n: u64) -> String {
    crate::cli::progress::human_bytes(n)
}

/// The screen's panels: device and cache, the catalog, the pulls (empty without any).
fn areas(area: Rect, s: &ModelsState) -> [Rect; 3] {
    let n_pulls = s.pulls.len() as u16;
    Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(5),
        Constraint::Length(if n_pulls > 0 { n_pulls * 2 + 2 } else { 0 }),
    ])
    .areas(area)
}

/// The catalog's rows (inside its border, under its header) in `area`, shared by drawing and
/// clicks; `None` while the catalog cannot be listed.
pub fn catalog_rows(area: Rect, s: &ModelsState) -> Option<Rows> {
    let [_, table, _] = areas(area, s);
    s.error.is_none().then(|| Rows::new(inside(table, true, 1), s.first, s.selected))
}

pub fn draw(f: &mut Frame, area: Rect, s: &ModelsState, t: &Theme) {
    let n_pulls = s.pulls.len() as u16;
    let [head, table, pulls] = areas(area, s);
    let dev = Paragraph::new(vec![Line::from(vec![
        Span::styled("device ", t.dimmed()),
        Span::styled(
            if s.device.is_empty() { "…".to_string() } else { s.device.clone() },
            Style::default().fg(t.accent),
        ),
        Span::styled("   cache ", t.dimmed()),
        Span::raw(crate::paths::models_dir().display().to_string()),
    ])])
    .block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_style(false))
            .title(Span::styled(" Models ", t.title_style())),
    );
    f.render_widget(dev, head);

    if let Some(e) = &s.error {
        f.render_widget(
            Paragraph::new(format!("cannot list the catalog: {e}"))
                .style(Style::default().fg(t.bad))
                .wrap(Wrap { trim: false }),
            table,
        );
    } else {
        let wide = table.width >= 100;
        let first = catalog_rows(area, s).map(|r| r.first).unwrap_or(0);
        let rows: Vec<Row> = s
            .rows
            .iter()
            .enumerate()
            .skip(first)
            .map(|(i, r)| {
                let status_style = match r.status.as_str() {
                    "present" | "verified" => Style::default().fg(t.good),
                    "missing" => Style::default().fg(t.warn),
                    _ => Style::default().fg(t.fg),
                };
                let mut cells = vec![
                    Cell::from(r.name.clone()),
                    Cell::from(Span::styled(r.status.clone(), status_style)),
                    Cell::from(r.size.map(human_bytes).unwrap_or_else(|| "–".into())),
                ];
                if wide {
                    cells.push(Cell::from(r.format.clone()));
                }
                cells.push(Cell::from(Span::styled(r.about.clone(), t.dimmed())));
                let row = Row::new(cells);
                if i == s.selected {
                    row.style(t.selected())
                } else {
                    row
                }
            })
            .collect();
        let mut widths = vec![Constraint::Length(28), Constraint::Length(9), Constraint::Length(10)];
        let mut header = vec!["model", "status", "size"];
        if wide {
            widths.push(Constraint::Length(12));
            header.push("format");
        }
        widths.push(Constraint::Min(10));
        header.push("about");
        let title = if s.loading { " Catalog (scanning…) " } else { " Catalog " };
        f.render_widget(
            Table::new(rows, widths).header(Row::new(header).style(t.dimmed().add_modifier(Modifier::BOLD))).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.border_style(true))
                    .title(Span::styled(title, t.title_style())),
            ),
            table,
        );
    }

    if n_pulls > 0 {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_style(false))
            .title(Span::styled(" Pulls ", t.title_style()));
        let inner = block.inner(pulls);
        f.render_widget(block, pulls);
        let rows = Layout::vertical(vec![Constraint::Length(2); s.pulls.len()]).split(inner);
        for ((name, p), area) in s.pulls.iter().zip(rows.iter()) {
            let [label, bar] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(*area);
            let (status, style) = match &p.finished {
                None => (p.stage.clone(), Style::default().fg(t.accent)),
                Some(Ok(())) => ("done".into(), Style::default().fg(t.good)),
                Some(Err(e)) => (format!("failed: {e}"), Style::default().fg(t.bad)),
            };
            f.render_widget(
                Paragraph::new(Line::from(vec![Span::raw(format!("{name}  ")), Span::styled(status, style)])),
                label,
            );
            let ratio = match (&p.finished, p.total) {
                (Some(Ok(())), _) => 1.0,
                (_, Some(tot)) if tot > 0 => (p.done as f64 / tot as f64).clamp(0.0, 1.0),
                _ => 0.0,
            };
            let label = match p.total {
                Some(tot) => format!("{}/{}", p.done, tot),
                None if p.done > 0 => format!("{}", p.done),
                None => String::new(),
            };
            f.render_widget(
                Gauge::default().ratio(ratio).label(label).gauge_style(Style::default().fg(t.chart_1).bg(t.status_bg)),
                bar,
            );
        }
    }
}
