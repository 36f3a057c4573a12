//! Where the rows of a scrolled list are on screen: one computation for the views that draw
//! a list (which rows they skip) and for the mouse (which row a click is on).

use ratatui::layout::{Position, Rect};

/// The first row a list `visible` rows high shows: `anchor` (the first row shown before)
/// moved only as far as it takes to keep `selected` in view, as a `ListState` scrolls.
///
/// With `anchor` 0 the selected row sits at the bottom once the list is scrolled.
pub fn first_row(anchor: usize, selected: usize, visible: usize) -> usize {
    let visible = visible.max(1);
    if selected < anchor {
        selected
    } else if selected >= anchor + visible {
        selected + 1 - visible
    } else {
        anchor
    }
}

/// The rows of a list as drawn: the rectangle they fill (inside any border, below any header
/// row) and the index of the first row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    pub area: Rect,
    pub first: usize,
}

impl Rows {
    /// The rows in `area`, scrolled from `anchor` so that `selected` shows ([`first_row`]).
    pub fn new(area: Rect, anchor: usize, selected: usize) -> Rows {
        Rows { area, first: first_row(anchor, selected, area.height as usize) }
    }

    /// The index of the row of a list of `len` rows at (`col`, `row`) on screen, if any.
    pub fn at(&self, col: u16, row: u16, len: usize) -> Option<usize> {
        if !self.area.contains(Position { x: col, y: row }) {
            return None;
        }
        let i = self.first + (row - self.area.y) as usize;
        (i < len).then_some(i)
    }
}

/// `area` less a one-cell border and then `header` rows at the top: where a bordered table's
/// rows go.
pub fn inside(area: Rect, border: bool, header: u16) -> Rect {
    let b = u16::from(border);
    let x = area.x + b.min(area.width);
    let width = area.width.saturating_sub(2 * b);
    let top = (b + header).min(area.height);
    let height = area.height.saturating_sub(top + b);
    Rect { x, y: area.y + top, width, height }
}
