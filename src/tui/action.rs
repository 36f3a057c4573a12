//! Every user-facing action of the UI, in one enum.
//!
//! Keymaps (built-in and `keys.toml`) map keys to these actions; the help overlay and the
//! status bar are built from the same keymap, and each action's [`Action::describe`]
//! text is what the help overlay shows next to its key, so help is never out of date.
//!
//! In `keys.toml` an action is named by its kebab-case name (`skip`, `confidence-7`,
//! `cycle-theme`, …), see [`Action::name`].

use std::fmt;
use std::str::FromStr;

/// A user intent, independent of the key that triggered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    // ── everywhere ──────────────────────────────────────────────────────────────
    /// Leave the program (cancels any running generation first).
    Quit,
    /// Cancel the running generation, close an overlay or go back.
    Cancel,
    /// Show or hide the help overlay listing every key of the current screen.
    Help,
    /// Switch to the next built-in or user theme.
    CycleTheme,
    /// Go to the next screen (Debate → Review → Train → Models).
    NextScreen,
    /// Go to the previous screen.
    PrevScreen,
    /// Go to the Debate / judge screen.
    ScreenDebate,
    /// Go to the Review screen.
    ScreenReview,
    /// Go to the Train screen.
    ScreenTrain,
    /// Go to the Models screen.
    ScreenModels,
    /// Scroll the focused pane (or move the selection) up one line.
    Up,
    /// Scroll the focused pane (or move the selection) down one line.
    Down,
    /// Scroll up one page.
    PageUp,
    /// Scroll down one page.
    PageDown,
    /// Jump to the top.
    Top,
    /// Jump to the bottom (and follow new tokens).
    Bottom,
    /// Move the focus to the next pane.
    FocusNext,

    // ── debate / judge ──────────────────────────────────────────────────────────
    /// Set the confidence that one side is right: 1–4 lean left (1 = surest),
    /// 6–9 lean right (9 = surest); 5 is 50 %, which a verdict may not be.
    Confidence(u8),
    /// Move the confidence 5 points toward the left side.
    NudgeLeft,
    /// Move the confidence 5 points toward the right side.
    NudgeRight,
    /// Submit the verdict (or continue to the next item after a verdict).
    Submit,
    /// Undo the last verdict and judge that item again.
    Undo,
    /// Skip this item without a verdict.
    Skip,
    /// Write a rationale note for the verdict.
    Rationale,
    /// Set up a new debate (task, debaters, judge, protocol…) and start it.
    NewDebate,

    // ── review ──────────────────────────────────────────────────────────────────
    /// Open the selected session (or step into the selected debate).
    Open,
    /// Cycle the sort column (date, task, model, judge).
    Sort,
    /// Reverse the sort order.
    ReverseSort,
    /// Filter sessions by task, model, judge or date (`task:x model:y judge:z date:2025-`).
    Filter,
    /// Search inside transcripts.
    Search,
    /// Next debate of the open session (or next search hit).
    NextItem,
    /// Previous debate of the open session (or previous search hit).
    PrevItem,
    /// Show or hide the stats panel (accuracy, D, calibration, win rates).
    Stats,
    /// Mark the selected session to compare side by side with another.
    Compare,
    /// Reload the list of sessions from disk.
    Refresh,
    /// Export the selected session as JSONL beside it.
    Export,
    /// Train strong students on the selected session's verdicts (people as weak supervisors).
    TrainFromSession,

    // ── train ───────────────────────────────────────────────────────────────────
    /// Run the pipeline from the current stage.
    Run,
    /// Pause the pipeline after the current step.
    Pause,
    /// Step to the next stage.
    StepStage,
    /// Choose the experiment: configs in `<config>/experiments` and the working folder, past runs.
    Experiments,
    /// A new experiment: a form that writes `<config>/experiments/NAME.toml` and opens it.
    NewExperiment,

    // ── forms ───────────────────────────────────────────────────────────────────
    /// Complete the field under the cursor (task and files, models, losses).
    Complete,
    /// Clear the field under the cursor.
    ClearField,

    // ── models ──────────────────────────────────────────────────────────────────
    /// Pull (download) the selected model into the cache.
    Pull,
    /// Pull the whole offline default set.
    PullDefaults,
}

/// Every action without a parameter, plus `confidence-1..9`, in help order.
pub fn all() -> Vec<Action> {
    use Action::*;
    let mut v = vec![
        Quit,
        Cancel,
        Help,
        CycleTheme,
        NextScreen,
        PrevScreen,
        ScreenDebate,
        ScreenReview,
        ScreenTrain,
        ScreenModels,
        Up,
        Down,
        PageUp,
        PageDown,
        Top,
        Bottom,
        FocusNext,
    ];
    v.extend((1..=9).map(Confidence));
    v.extend([
        NudgeLeft,
        NudgeRight,
        Submit,
        Undo,
        Skip,
        Rationale,
        NewDebate,
        Open,
        Sort,
        ReverseSort,
        Filter,
        Search,
        NextItem,
        PrevItem,
        Stats,
        Compare,
        Refresh,
        Export,
        TrainFromSession,
        Run,
        Pause,
        StepStage,
        Experiments,
        NewExperiment,
        Complete,
        ClearField,
        Pull,
        PullDefaults,
    ]);
    v
}

impl Action {
    /// The kebab-case name used in `keys.toml`.
    pub fn name(&self) -> String {
        use Action::*;
        let s = match self {
            Quit => "quit",
            Cancel => "cancel",
            Help => "help",
            CycleTheme => "cycle-theme",
            NextScreen => "next-screen",
            PrevScreen => "prev-screen",
            ScreenDebate => "screen-debate",
            ScreenReview => "screen-review",
            ScreenTrain => "screen-train",
            ScreenModels => "screen-models",
            Up => "up",
            Down => "down",
            PageUp => "page-up",
            PageDown => "page-down",
            Top => "top",
            Bottom => "bottom",
            FocusNext => "focus-next",
            Confidence(n) => return format!("confidence-{n}"),
            NudgeLeft => "nudge-left",
            NudgeRight => "nudge-right",
            Submit => "submit",
            Undo => "undo",
            Skip => "skip",
            Rationale => "rationale",
            NewDebate => "new-debate",
            Open => "open",
            Sort => "sort",
            ReverseSort => "reverse-sort",
            Filter => "filter",
            Search => "search",
            NextItem => "next-item",
            PrevItem => "prev-item",
            Stats => "stats",
            Compare => "compare",
            Refresh => "refresh",
            Export => "export",
            TrainFromSession => "train-from-session",
            Run => "run",
            Pause => "pause",
            StepStage => "step-stage",
            Experiments => "experiments",
            NewExperiment => "new-experiment",
            Complete => "complete",
            ClearField => "clear-field",
            Pull => "pull",
            PullDefaults => "pull-defaults",
        };
        s.to_string()
    }

    /// A short label for the status bar.
    pub fn label(&self) -> String {
        use Action::*;
        match self {
            Quit => "quit".into(),
            Cancel => "cancel/back".into(),
            Help => "help".into(),
            CycleTheme => "theme".into(),
            NextScreen => "next screen".into(),
            PrevScreen => "prev screen".into(),
            ScreenDebate => "debate".into(),
            ScreenReview => "review".into(),
            ScreenTrain => "train".into(),
            ScreenModels => "models".into(),
            Up => "up".into(),
            Down => "down".into(),
            PageUp => "page up".into(),
            PageDown => "page down".into(),
            Top => "top".into(),
            Bottom => "bottom".into(),
            FocusNext => "switch pane".into(),
            Confidence(n) => format!("confidence {}", confidence_label(*n)),
            NudgeLeft => "← 5%".into(),
            NudgeRight => "→ 5%".into(),
            Submit => "submit".into(),
            Undo => "undo".into(),
            Skip => "skip".into(),
            Rationale => "rationale".into(),
            NewDebate => "new debate".into(),
            Open => "open".into(),
            Sort => "sort".into(),
            ReverseSort => "reverse".into(),
            Filter => "filter".into(),
            Search => "search".into(),
            NextItem => "next".into(),
            PrevItem => "prev".into(),
            Stats => "stats".into(),
            Compare => "compare".into(),
            Refresh => "reload".into(),
            Export => "export".into(),
            TrainFromSession => "train on it".into(),
            Run => "run".into(),
            Pause => "pause".into(),
            StepStage => "next stage".into(),
            Experiments => "experiments".into(),
            NewExperiment => "new".into(),
            Complete => "complete".into(),
            ClearField => "clear".into(),
            Pull => "pull".into(),
            PullDefaults => "pull defaults".into(),
        }
    }

    /// The sentence the help overlay shows (the first line of the variant's doc).
    pub fn describe(&self) -> String {
        use Action::*;
        match self {
            Quit => "Leave the program".into(),
            Cancel => "Cancel generation, close an overlay, or go back".into(),
            Help => "Show or hide this help".into(),
            CycleTheme => "Switch to the next theme".into(),
            NextScreen => "Next screen".into(),
            PrevScreen => "Previous screen".into(),
            ScreenDebate => "Go to the Debate / judge screen".into(),
            ScreenReview => "Go to the Review screen".into(),
            ScreenTrain => "Go to the Train screen".into(),
            ScreenModels => "Go to the Models screen".into(),
            Up => "Scroll up / select previous".into(),
            Down => "Scroll down / select next".into(),
            PageUp => "Scroll up one page".into(),
            PageDown => "Scroll down one page".into(),
            Top => "Jump to the top".into(),
            Bottom => "Jump to the bottom (follow new tokens)".into(),
            FocusNext => "Focus the next pane".into(),
            Confidence(n) => format!("Confidence: {}", confidence_label(*n)),
            NudgeLeft => "Move confidence 5 points toward the left side".into(),
            NudgeRight => "Move confidence 5 points toward the right side".into(),
            Submit => "Submit the verdict / continue".into(),
            Undo => "Undo the last verdict and judge that item again".into(),
            Skip => "Skip this item without a verdict".into(),
            Rationale => "Write a rationale note".into(),
            NewDebate => {
                "New debate: a form (task, debaters, judge, protocol, rounds…) that remembers the last setup".into()
            }
            Open => "Open the selected session or debate".into(),
            Sort => "Cycle the sort column (date, task, model, judge)".into(),
            ReverseSort => "Reverse the sort order".into(),
            Filter => "Filter: task:X model:Y judge:Z date:Y-M (or any text)".into(),
            Search => "Search inside transcripts".into(),
            NextItem => "Next debate / next search hit".into(),
            PrevItem => "Previous debate / previous search hit".into(),
            Stats => "Show or hide the stats charts".into(),
            Compare => "Mark a session or run; mark a second one to compare side by side".into(),
            Refresh => "Reload the sessions from disk".into(),
            Export => "Export the selected session (one row per judgement, with transcripts) as JSONL beside it".into(),
            TrainFromSession => "Train a strong student on the selected session's verdicts (people as weak supervisors) on the Train screen".into(),
            Run => "Run the pipeline from the current stage".into(),
            Pause => "Pause the pipeline after the current step".into(),
            StepStage => "Step to the next stage".into(),
            Experiments => {
                "Choose the experiment: configs in <config>/experiments and here, past runs in <data>/runs".into()
            }
            NewExperiment => "New experiment: a form that writes <config>/experiments/NAME.toml and opens it".into(),
            Complete => "Complete the field: builtin tasks and files, models (cached first), losses".into(),
            ClearField => "Clear the field".into(),
            Pull => "Pull the selected model".into(),
            PullDefaults => "Pull the offline default set".into(),
        }
    }
}

/// The probability, in percent, that the RIGHT side's answer is correct for key `n` (1..=9).
///
/// `1→5, 2→15, 3→25, 4→40, 5→50, 6→60, 7→75, 8→85, 9→95`: symmetric around 50, ends at
/// the 5 %..95 % limits of the human-judge scale.
pub fn confidence_right_pct(n: u8) -> u8 {
    match n {
        0 | 1 => 5,
        2 => 15,
        3 => 25,
        4 => 40,
        5 => 50,
        6 => 60,
        7 => 75,
        8 => 85,
        _ => 95,
    }
}

/// `"left 95%"`, `"right 60%"`, `"50% (not allowed)"`.
pub fn confidence_label(n: u8) -> String {
    let r = confidence_right_pct(n);
    match r.cmp(&50) {
        std::cmp::Ordering::Less => format!("left {}%", 100 - r),
        std::cmp::Ordering::Greater => format!("right {r}%"),
        std::cmp::Ordering::Equal => "50% (not allowed)".into(),
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        all().into_iter().find(|a| a.name() == s).ok_or_else(|| {
            format!("unknown action {s:?}; known: {}", all().iter().map(|a| a.name()).collect::<Vec<_>>().join(", "))
        })
    }
}

impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in all() {
            assert_eq!(a.name().parse::<Action>().unwrap(), a);
            assert!(!a.describe().is_empty());
        }
        assert!("nope".parse::<Action>().is_err());
    }

    #[test]
    fn confidence_is_symmetric() {
        for n in 1..=9u8 {
            assert_eq!(confidence_right_pct(n) as i32 + confidence_right_pct(10 - n) as i32, 100);
        }
        assert_eq!(confidence_label(1), "left 95%");
        assert_eq!(confidence_label(9), "right 95%");
    }
}
