//! Screens. `draw` is a pure function of an immutable `&App`: the tab bar, the current
//! screen, the status bar and the help overlay, the last two built from the keymap.

pub mod completion;
pub mod debate;
pub mod debate_form;
pub mod experiment_form;
pub mod models;
pub mod review;
pub mod review_run;
pub mod train;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::action::Action;
use super::app::{App, Screen};
use super::keymap::{Keymap, Scope};
use super::theme::Theme;

/// Draws the whole UI.
pub fn draw(f: &mut Frame, app: &App) {
    let t = &app.theme;
    let area = f.area();
    f.render_widget(Block::default().style(t.base()), area);
    let [tabs, body, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    draw_tabs(f, tabs, app);
    match app.screen {
        Screen::Debate => match &app.debate_form {
            Some(form) => debate_form::draw(f, body, form, form_hint(&app.keymap, t, "start"), t),
            None => {
                let new_key = app.keymap.key_text(Scope::Debate, Action::NewDebate);
                debate::draw(f, body, &app.debate, t, debate_hint(&app.keymap, t), new_key)
            }
        },
        Screen::Review => review::draw(f, body, &app.review, t),
        Screen::Train => match &app.train.form {
            Some(form) => experiment_form::draw(f, body, form, form_hint(&app.keymap, t, "save and open"), t),
            None => train::draw(f, body, &app.train, t),
        },
        Screen::Models => models::draw(f, body, &app.models, t),
    }
    draw_status(f, status, app);
    if let Some(off) = app.help {
        draw_help(f, area, app, off);
    }
}

/// The tab bar: the cells of [`App::tab_cells`] (the same text [`App::tab_at`] maps clicks on),
/// styled.
fn draw_tabs(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let (lead, cells) = app.tab_cells(area.width);
    let mut spans = vec![
        Span::styled(lead[0], Style::default().fg(t.bg).bg(t.accent).add_modifier(Modifier::BOLD)),
        Span::raw(lead[1]),
    ];
    for (s, title, key) in cells {
        let here = s == app.screen;
        spans.push(Span::styled(title, if here { t.selected() } else { t.dimmed() }));
        if !key.is_empty() {
            spans.push(Span::styled(key, if here { t.key_style() } else { t.dimmed() }));
        }
    }
    let right = format!(" theme {} ", t.name);
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if used + right.len() < area.width as usize {
        spans.push(Span::raw(" ".repeat(area.width as usize - used - right.len())));
        spans.push(Span::styled(right, t.dimmed()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.status()), area);
}

/// The status bar: the cells of [`App::status_cells`] (the same cells [`App::status_at`] maps
/// clicks on), styled.
fn draw_status(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let (flash, cells) = app.status_cells(area.width);
    let mut spans = Vec::new();
    if let Some(msg) = flash {
        spans.push(Span::styled(msg, Style::default().fg(t.warn).add_modifier(Modifier::BOLD)));
    }
    for c in cells {
        spans.push(Span::styled(format!(" {}", c.key), t.key_style().bg(t.status_bg)));
        spans.push(Span::styled(format!(" {} ", c.label), t.status()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.status()), area);
}

/// The keys of a form, from the keymap's `form` scope.
fn form_hint(km: &Keymap, t: &Theme, submit: &'static str) -> Line<'static> {
    let mut spans = vec![];
    for (a, what) in [
        (Action::Complete, "complete"),
        (Action::Down, "next field"),
        (Action::Up, "previous"),
        (Action::ClearField, "clear"),
        (Action::Submit, submit),
        (Action::Cancel, "cancel"),
    ] {
        if let Some(k) = km.keys(Scope::Form, a).first() {
            spans.push(Span::styled(format!(" {k}"), t.key_style()));
            spans.push(Span::raw(format!(" {what} ")));
        }
    }
    Line::from(spans)
}

/// The hint in the judge bar, from the keymap.
fn debate_hint(km: &Keymap, t: &Theme) -> Line<'static> {
    let k = |a: Action| km.key_text(Scope::Debate, a).unwrap_or_else(|| "?".into());
    let conf = km.confidence_keys(Scope::Debate).unwrap_or_else(|| "?".into());
    Line::from(vec![
        Span::styled(conf, t.key_style()),
        Span::raw(" how sure (1 left … 9 right)  "),
        Span::styled(k(Action::Submit), t.key_style()),
        Span::raw(" submit  "),
        Span::styled(k(Action::Rationale), t.key_style()),
        Span::raw(" note  "),
        Span::styled(k(Action::Skip), t.key_style()),
        Span::raw(" skip"),
    ])
}

/// Rows of the help overlay for a screen, straight from the keymap; the nine
/// confidence actions share one row.
pub fn help_rows(km: &Keymap, scope: Scope) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut conf: Vec<String> = Vec::new();
    let mut conf_at = None;
    for (keys, a) in km.help_rows(scope) {
        if let Action::Confidence(_) = a {
            conf_at.get_or_insert(rows.len());
            conf.push(keys);
            continue;
        }
        rows.push((keys, a.describe()));
    }
    if let Some(at) = conf_at {
        let text = "How sure: 1–4 the left side is right (1 surest), 6–9 the right side (9 surest); 5 = 50% is refused";
        rows.insert(at, (conf.join(" "), text.into()));
    }
    rows
}

fn draw_help(f: &mut Frame, area: Rect, app: &App, offset: usize) {
    let t = &app.theme;
    let rows = help_rows(&app.keymap, app.scope());
    let w = area.width.saturating_sub(4).min(96);
    let h = area.height.saturating_sub(2).min(rows.len() as u16 + 4);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    f.render_widget(Clear, popup);
    let title = Line::from(vec![
        Span::styled(format!(" Keys · {} ", app.screen.title()), t.title_style()),
        Span::styled("(from the keymap; remap in keys.toml) ", t.dimmed()),
    ]);
    let block = Block::default().borders(Borders::ALL).border_style(t.border_style(true)).title(title).style(t.base());
    let inner = block.inner(popup);
    f.render_widget(block, popup);
    let key_w = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(4).min(20);
    let visible = inner.height as usize;
    let offset = offset.min(rows.len().saturating_sub(visible));
    let lines: Vec<Line> = rows
        .iter()
        .skip(offset)
        .take(visible)
        .map(|(k, d)| Line::from(vec![Span::styled(format!(" {k:>key_w$}  "), t.key_style()), Span::raw(d.clone())]))
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    // (A popup too small for its borders has no room for the scroll note.)
    if rows.len() > visible && popup.height >= 2 {
        let more = format!(" {}-{} of {} · ↑↓ scroll ", offset + 1, (offset + visible).min(rows.len()), rows.len());
        let r = Rect {
            x: popup.x + 2,
            y: popup.y + popup.height - 1,
            width: (more.chars().count() as u16).min(popup.width.saturating_sub(4)),
            height: 1,
        };
        f.render_widget(Paragraph::new(Span::styled(more, t.dimmed())), r);
    }
}
