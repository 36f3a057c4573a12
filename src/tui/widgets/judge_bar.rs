//! The judge bar: where the judge's confidence sits between the left and right side.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::tui::action::confidence_right_pct;
use crate::tui::theme::Theme;
use crate::tui::widgets::rows::inside;

/// Narrower inside than this, the bar draws nothing but its border.
const MIN_WIDTH: u16 = 20;

/// The confidence keys 1–9 on the number row (the third inside the border) of a bar whose
/// inside is `width` wide, with their columns from its left edge: each under its probability.
pub fn key_columns(width: u16) -> Vec<(u8, u16)> {
    let w = width as usize;
    (1..=9u8)
        .map(|n| (n, ((confidence_right_pct(n) as usize) * w.saturating_sub(1) + 50) / 100))
        .filter(|&(_, x)| x < w)
        .map(|(n, x)| (n, x as u16))
        .collect()
}

/// The confidence key a click at (`col`, `row`) on a bar drawn in `area` is on: the digit
/// under the pointer, or the one a column beside it when no other digit is as near.
pub fn key_at(area: Rect, col: u16, row: u16) -> Option<u8> {
    let inner = inside(area, true, 0);
    if inner.width < MIN_WIDTH
        || inner.height < 3
        || row != inner.y + 2
        || col < inner.x
        || col >= inner.x + inner.width
    {
        return None;
    }
    let x = col - inner.x;
    let near: Vec<(u8, u16)> = key_columns(inner.width).into_iter().filter(|&(_, k)| k.abs_diff(x) <= 1).collect();
    match near.as_slice() {
        [(n, _)] => Some(*n),
        several => several.iter().find(|&&(_, k)| k == x).map(|&(n, _)| n),
    }
}

/// A horizontal bar from the left side (0 %) to the right side (100 %), with a marker at
/// the probability that the right side is correct and the 1–9 keys underneath.
pub struct JudgeBar<'a> {
    /// Probability (percent) that the right side's answer is correct; `None` before a choice.
    pub p_right: Option<u8>,
    /// Model-judge readings in each presentation order, drawn as small markers.
    pub order_marks: Vec<u8>,
    pub left_label: String,
    pub right_label: String,
    pub title: Line<'a>,
    pub hint: Line<'a>,
    pub theme: &'a Theme,
    pub focused: bool,
}

impl Widget for JudgeBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let block = Block::default().borders(Borders::ALL).border_style(t.border_style(self.focused)).title(self.title);
        let inner = inside(area, true, 0);
        block.render(area, buf);
        if inner.height == 0 || inner.width < MIN_WIDTH {
            return;
        }
        let w = inner.width as usize;
        // Row 1: "◀ left 95%" ... "right 5% ▶"
        let (lp, rp) = match self.p_right {
            Some(p) => (format!("{}%", 100 - p as u16), format!("{p}%")),
            None => ("–".into(), "–".into()),
        };
        let left_txt = format!("◀ {} {lp}", self.left_label);
        let right_txt = format!("{rp} {} ▶", self.right_label);
        let pad = w.saturating_sub(left_txt.chars().count() + right_txt.chars().count());
        let row1 = Line::from(vec![
            Span::styled(left_txt, Style::default().fg(t.left).add_modifier(Modifier::BOLD)),
            Span::raw(" ".repeat(pad)),
            Span::styled(right_txt, Style::default().fg(t.right).add_modifier(Modifier::BOLD)),
        ]);
        // Row 2: the bar itself.
        let bar_w = w;
        let pos = self.p_right.map(|p| ((p as usize) * (bar_w - 1) + 50) / 100);
        let mut spans = Vec::with_capacity(bar_w);
        for x in 0..bar_w {
            let is_marker = pos == Some(x);
            let is_order = self.order_marks.iter().any(|p| ((*p as usize) * (bar_w - 1) + 50) / 100 == x);
            let mid = x == (bar_w - 1) / 2;
            let (sym, style) = if is_marker {
                ("█", Style::default().fg(t.accent).add_modifier(Modifier::BOLD))
            } else if is_order {
                ("▲", Style::default().fg(t.warn))
            } else if mid {
                ("┼", Style::default().fg(t.dim))
            } else {
                let toward_right = pos.is_some_and(|p| (x > bar_w / 2 && x <= p) || (x < bar_w / 2 && x >= p));
                let c = if x < bar_w / 2 { t.left } else { t.right };
                if toward_right {
                    ("━", Style::default().fg(c))
                } else {
                    ("─", Style::default().fg(t.dim))
                }
            };
            spans.push(Span::styled(sym, style));
        }
        let row2 = Line::from(spans);
        // Row 3: the keys 1..9 under their positions.
        let mut row3: Vec<char> = vec![' '; bar_w];
        for (n, x) in key_columns(inner.width) {
            row3[x as usize] = (b'0' + n) as char;
        }
        let row3 = Line::styled(row3.into_iter().collect::<String>(), t.key_style());
        let mut lines = vec![row1, row2, row3];
        lines.push(self.hint);
        Paragraph::new(lines).render(inner, buf);
    }
}
