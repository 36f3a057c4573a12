//! Pure widgets: each draws from the values it is given and keeps no state.

pub mod charts;
pub mod judge_bar;
pub mod pane;
