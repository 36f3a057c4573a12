//! A scrollable text pane: explanations streaming in, transcripts, passages.

use ratatui::buffer::Buffer;
use ratatui::layout::{Margin, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState, StatefulWidget, Widget,
};

use crate::tui::theme::Theme;

/// Character width of one char for wrapping (wide CJK and emoji count 2).
fn char_width(c: char) -> usize {
    Span::raw(c.to_string()).width()
}

/// Word-wraps `text` to `width` columns. Newlines are kept; words longer than a line
/// are broken; leading spaces of wrapped continuation lines are dropped.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut w = 0usize;
        for word in split_keep_spaces(para) {
            let ww: usize = word.chars().map(char_width).sum();
            if w + ww <= width {
                line.push_str(word);
                w += ww;
                continue;
            }
            if word.trim().is_empty() {
                // A space run that does not fit ends the line.
                out.push(std::mem::take(&mut line));
                w = 0;
                continue;
            }
            if w > 0 {
                out.push(std::mem::take(&mut line).trim_end().to_string());
                w = 0;
            }
            for c in word.chars() {
                let cw = char_width(c);
                if w + cw > width && w > 0 {
                    out.push(std::mem::take(&mut line));
                    w = 0;
                }
                line.push(c);
                w += cw;
            }
        }
        out.push(line);
    }
    out
}

/// One paragraph of a pane: styled segments, wrapped together as one text.
pub type Para = Vec<(String, Style)>;

/// A paragraph in one style.
pub fn para(text: impl Into<String>, style: Style) -> Para {
    vec![(text.into(), style)]
}

/// Word-wraps a styled paragraph like [`wrap`], keeping each character's style: the wrapped
/// lines' characters are found in order in the paragraph (wrapping only drops spaces and
/// breaks lines), and each takes the style of the segment it came from.
pub fn wrap_styled(p: &[(String, Style)], width: usize) -> Vec<Vec<(String, Style)>> {
    let text: String = p.iter().map(|(t, _)| t.as_str()).collect();
    let styles: Vec<Style> = p.iter().flat_map(|(t, s)| std::iter::repeat_n(*s, t.chars().count())).collect();
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    wrap(&text, width)
        .into_iter()
        .map(|line| {
            let mut segs: Vec<(String, Style)> = Vec::new();
            for c in line.chars() {
                while at < chars.len() && chars[at] != c {
                    at += 1; // a dropped space or line break
                }
                let st = styles.get(at).copied().unwrap_or_default();
                at += 1;
                match segs.last_mut() {
                    Some((t, s)) if *s == st => t.push(c),
                    _ => segs.push((c.to_string(), st)),
                }
            }
            segs
        })
        .collect()
}

/// A debate turn as a paragraph: quotes checked against `passage` shown as `✓"…"` (found in the
/// passage) or `✗"…"` (not found), without their `<quote>` tags, and the `…[cut]` mark of a turn
/// trimmed at its token budget in the warning colour (the same spans the judge's prompt marks,
/// [`crate::debate::quality::turn_spans`]). The marks stay readable without colour.
pub fn turn_para(text: &str, passage: Option<&str>, t: &Theme) -> Para {
    use crate::debate::quality::{turn_spans, SpanKind};
    let text = text.trim();
    let base = Style::default().fg(t.fg);
    let spans = turn_spans(text, passage);
    if spans.is_empty() {
        return para(text, base);
    }
    spans
        .into_iter()
        .map(|s| {
            let body = &text[s.start..s.end];
            match s.kind {
                SpanKind::Plain => (body.to_string(), base),
                SpanKind::VerifiedQuote => {
                    (format!("✓\"{body}\""), Style::default().fg(t.good).add_modifier(Modifier::BOLD))
                }
                SpanKind::UnverifiedQuote => {
                    (format!("✗\"{body}\""), Style::default().fg(t.bad).add_modifier(Modifier::CROSSED_OUT))
                }
                SpanKind::Cut => (body.to_string(), Style::default().fg(t.warn).add_modifier(Modifier::BOLD)),
            }
        })
        .collect()
}

/// The warning under a turn flagged as copying its opponent (overlap still above the threshold
/// after the regenerations).
pub fn copy_warning(overlap: f64, t: &Theme) -> Para {
    para(
        format!("⚠ copies the opponent: {:.0}% of its 5-word runs are the opponent's", overlap * 100.0),
        Style::default().fg(t.warn).add_modifier(Modifier::BOLD),
    )
}

/// Splits into alternating runs of non-space and space characters.
fn split_keep_spaces(s: &str) -> Vec<&str> {
    let mut v = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let sp = c == ' ';
        if let Some(p) = prev {
            if p != sp {
                v.push(&s[start..i]);
                start = i;
            }
        }
        prev = Some(sp);
    }
    if start < s.len() {
        v.push(&s[start..]);
    }
    v
}

/// Scroll position of a pane: an offset in wrapped lines, or following the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scroll {
    pub offset: usize,
    /// Stick to the bottom as text streams in.
    pub follow: bool,
}

impl Scroll {
    pub fn following() -> Self {
        Scroll { offset: 0, follow: true }
    }
    /// Scrolls by `delta` lines given the pane's current `total` lines and `height` rows.
    /// Scrolling up stops following; reaching the end again resumes it.
    pub fn by(&mut self, delta: isize, total: usize, height: usize) {
        let max = total.saturating_sub(height);
        let cur = self.first_line(total, height);
        let next = (cur as isize + delta).clamp(0, max as isize) as usize;
        self.offset = next;
        self.follow = next >= max && delta > 0;
    }
    pub fn top(&mut self) {
        self.offset = 0;
        self.follow = false;
    }
    pub fn bottom(&mut self) {
        self.follow = true;
    }
    /// The first visible line for `total` lines in `height` rows (clamps `offset`).
    pub fn first_line(&self, total: usize, height: usize) -> usize {
        let max = total.saturating_sub(height);
        if self.follow {
            max
        } else {
            self.offset.min(max)
        }
    }
}

/// A bordered pane of wrapped text with a scrollbar.
pub struct TextPane<'a> {
    pub title: Line<'a>,
    /// Styled paragraphs; each is wrapped separately.
    pub paragraphs: Vec<Para>,
    pub scroll: Scroll,
    pub focused: bool,
    pub theme: &'a Theme,
    /// A one-line footer in the bottom border (e.g. `streaming…`, `42 tok`).
    pub footer: Option<Line<'a>>,
    pub border_color: Option<Color>,
}

impl TextPane<'_> {
    /// Wrapped lines (each a list of styled segments) for an inner width.
    pub fn lines(paragraphs: &[Para], width: usize) -> Vec<Vec<(String, Style)>> {
        paragraphs.iter().flat_map(|p| wrap_styled(p, width)).collect()
    }
}

impl Widget for TextPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let border = match self.border_color {
            Some(c) if !self.focused => Style::default().fg(c),
            _ => self.theme.border_style(self.focused),
        };
        let mut block = Block::default().borders(Borders::ALL).border_style(border).title(self.title);
        if let Some(f) = self.footer {
            block = block.title_bottom(f.right_aligned());
        }
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        let text_w = inner.width.saturating_sub(1) as usize; // one column for the scrollbar
        let lines = Self::lines(&self.paragraphs, text_w.max(1));
        let h = inner.height as usize;
        let first = self.scroll.first_line(lines.len(), h);
        let shown: Vec<Line> = lines
            .iter()
            .skip(first)
            .take(h)
            .map(|segs| Line::from(segs.iter().map(|(t, s)| Span::styled(t.clone(), *s)).collect::<Vec<_>>()))
            .collect();
        Paragraph::new(shown)
            .style(Style::default().fg(self.theme.fg))
            .render(Rect { width: inner.width.saturating_sub(1), ..inner }, buf);
        if lines.len() > h {
            let mut st = ScrollbarState::new(lines.len().saturating_sub(h)).position(first);
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .track_symbol(Some("│"))
                .thumb_symbol("█")
                .style(Style::default().fg(self.theme.dim))
                .render(area.inner(Margin { vertical: 1, horizontal: 0 }), buf, &mut st);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_long_tokens() {
        assert_eq!(wrap("the quick brown fox", 9), vec!["the quick", "brown fox"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("hello world", 5), vec!["hello", "world"]);
    }

    #[test]
    fn styled_wrapping_keeps_each_characters_style() {
        let (a, b) = (Style::default().fg(Color::Red), Style::default().fg(Color::Green));
        let p = vec![("one two ".to_string(), a), ("three four".to_string(), b)];
        let lines = wrap_styled(&p, 9);
        let text: Vec<String> = lines.iter().map(|l| l.iter().map(|(t, _)| t.as_str()).collect()).collect();
        assert_eq!(text, wrap("one two three four", 9));
        assert_eq!(lines[0], vec![("one two".to_string(), a)]);
        assert_eq!(lines[1], vec![("three".to_string(), b)]);
        assert_eq!(lines[2], vec![("four".to_string(), b)]);
    }

    #[test]
    fn turns_mark_verified_and_unverified_quotes_and_the_cut() {
        let t = Theme::dark();
        let passage = "The market opens on Sunday at dawn.";
        let p = turn_para(
            "It says <quote>opens on Sunday</quote>, not <quote>opens on Monday</quote> as claimed …[cut]",
            Some(passage),
            &t,
        );
        let text: String = p.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(text, "It says ✓\"opens on Sunday\", not ✗\"opens on Monday\" as claimed …[cut]");
        assert_eq!(p[1].1.fg, Some(t.good));
        assert_eq!(p[3].1.fg, Some(t.bad));
        assert_eq!(p.last().unwrap().1.fg, Some(t.warn));
        assert_eq!(turn_para("plain words", None, &t), para("plain words", Style::default().fg(t.fg)));
    }

    #[test]
    fn scroll_clamps_and_follows() {
        let mut s = Scroll::following();
        assert_eq!(s.first_line(10, 4), 6);
        s.by(-2, 10, 4);
        assert!(!s.follow);
        assert_eq!(s.first_line(10, 4), 4);
        s.by(5, 10, 4);
        assert!(s.follow, "reaching the end follows again");
        s.offset = 100;
        assert_eq!(s.first_line(10, 4), 6);
        s.top();
        assert_eq!(s.first_line(10, 4), 0);
    }
}
