//! Themes: flat TOML files (`key = "#rrggbb"` or a color name).
//!
//! The built-in themes (`themes/*.toml`: `dark`, the default, `light`, `high-contrast`)
//! are embedded in the binary. A file `<config>/themes/NAME.toml` adds a theme named
//! `NAME`, or overrides the built-in one of that name; it may set only some keys, the
//! rest coming from the built-in of the same name or from the theme named by its
//! optional `extends = "light"` key (else `dark`).

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use ratatui::style::{Color, Modifier, Style};

/// The built-in themes, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
];

/// The default theme's name.
pub const DEFAULT: &str = "dark";

/// Every color the UI uses, by role.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub bg: Color,
    pub fg: Color,
    pub dim: Color,
    pub border: Color,
    pub border_focus: Color,
    pub title: Color,
    pub accent: Color,
    /// The strong debater.
    pub strong: Color,
    /// The weak debater.
    pub weak: Color,
    /// The left pane (blind mode, where sides are not named).
    pub left: Color,
    pub right: Color,
    pub good: Color,
    pub bad: Color,
    pub warn: Color,
    pub selection_bg: Color,
    pub selection_fg: Color,
    pub status_bg: Color,
    pub status_fg: Color,
    /// Key names in the status bar and help overlay.
    pub key: Color,
    pub chart_1: Color,
    pub chart_2: Color,
    pub chart_3: Color,
    /// No colours at all (`NO_COLOR`, a dumb terminal): selections and the status line are
    /// shown reversed instead.
    pub mono: bool,
}

/// How many colours the terminal shows, read from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    /// 24-bit colour (`COLORTERM=truecolor` or `24bit`).
    TrueColor,
    /// The xterm 256-colour palette (`TERM=…256color…`).
    Ansi256,
    /// The 16 basic colours (any other terminal).
    Ansi16,
    /// No colour (`NO_COLOR` set and not empty, as no-color.org asks, or `TERM=dumb`).
    Mono,
}

impl ColorDepth {
    /// The depth of this process's terminal (`NO_COLOR`, `COLORTERM`, `TERM`).
    pub fn from_env() -> ColorDepth {
        let var = |k: &str| std::env::var(k).ok();
        Self::from_vars(var("NO_COLOR").as_deref(), var("COLORTERM").as_deref(), var("TERM").as_deref())
    }

    /// The depth for these values of `NO_COLOR`, `COLORTERM` and `TERM`.
    pub fn from_vars(no_color: Option<&str>, colorterm: Option<&str>, term: Option<&str>) -> ColorDepth {
        if no_color.is_some_and(|v| !v.is_empty()) || term == Some("dumb") {
            return ColorDepth::Mono;
        }
        if colorterm.is_some_and(|c| c.eq_ignore_ascii_case("truecolor") || c.eq_ignore_ascii_case("24bit")) {
            return ColorDepth::TrueColor;
        }
        if term.is_some_and(|t| t.contains("256")) {
            return ColorDepth::Ansi256;
        }
        ColorDepth::Ansi16
    }
}

/// Squared distance between two RGB colours.
fn dist2((r, g, b): (u8, u8, u8), (x, y, z): (u8, u8, u8)) -> i32 {
    (x as i32 - r as i32).pow(2) + (y as i32 - g as i32).pow(2) + (z as i32 - b as i32).pow(2)
}

/// The xterm 256-colour index nearest to an RGB colour: the 6×6×6 cube (16–231) or the grey
/// ramp (232–255), whichever is closer.
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let level = |v: u8| (0..6).min_by_key(|&i| (LEVELS[i] as i32 - v as i32).abs()).unwrap_or(0);
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let grey_i = ((r as u32 + g as u32 + b as u32) / 3).saturating_sub(3).min(233) / 10;
    let grey = (8 + 10 * grey_i) as u8;
    if dist2((r, g, b), (grey, grey, grey)) < dist2((r, g, b), cube) {
        232 + grey_i as u8
    } else {
        16 + 36 * ri as u8 + 6 * gi as u8 + bi as u8
    }
}

/// The basic ANSI colour nearest to an RGB colour (by xterm's default values).
pub fn nearest_16(r: u8, g: u8, b: u8) -> Color {
    const BASIC: [(Color, (u8, u8, u8)); 16] = [
        (Color::Black, (0, 0, 0)),
        (Color::Red, (205, 0, 0)),
        (Color::Green, (0, 205, 0)),
        (Color::Yellow, (205, 205, 0)),
        (Color::Blue, (0, 0, 238)),
        (Color::Magenta, (205, 0, 205)),
        (Color::Cyan, (0, 205, 205)),
        (Color::Gray, (229, 229, 229)),
        (Color::DarkGray, (127, 127, 127)),
        (Color::LightRed, (255, 0, 0)),
        (Color::LightGreen, (0, 255, 0)),
        (Color::LightYellow, (255, 255, 0)),
        (Color::LightBlue, (92, 92, 255)),
        (Color::LightMagenta, (255, 0, 255)),
        (Color::LightCyan, (0, 255, 255)),
        (Color::White, (255, 255, 255)),
    ];
    BASIC.iter().min_by_key(|(_, rgb)| dist2((r, g, b), *rgb)).map(|(c, _)| *c).unwrap_or(Color::Reset)
}

/// The colour names a theme file sets (besides `extends`).
pub const KEYS: &[&str] = &[
    "bg",
    "fg",
    "dim",
    "border",
    "border_focus",
    "title",
    "accent",
    "strong",
    "weak",
    "left",
    "right",
    "good",
    "bad",
    "warn",
    "selection_bg",
    "selection_fg",
    "status_bg",
    "status_fg",
    "key",
    "chart_1",
    "chart_2",
    "chart_3",
];

fn parse_color(s: &str) -> Result<Color> {
    let norm = s.trim().replace('-', "_");
    Color::from_str(&norm).map_err(|_| anyhow::anyhow!("{s:?} is not a color (use #rrggbb or a name like dark_gray)"))
}

impl Theme {
    fn slot(&mut self, key: &str) -> Option<&mut Color> {
        Some(match key {
            "bg" => &mut self.bg,
            "fg" => &mut self.fg,
            "dim" => &mut self.dim,
            "border" => &mut self.border,
            "border_focus" => &mut self.border_focus,
            "title" => &mut self.title,
            "accent" => &mut self.accent,
            "strong" => &mut self.strong,
            "weak" => &mut self.weak,
            "left" => &mut self.left,
            "right" => &mut self.right,
            "good" => &mut self.good,
            "bad" => &mut self.bad,
            "warn" => &mut self.warn,
            "selection_bg" => &mut self.selection_bg,
            "selection_fg" => &mut self.selection_fg,
            "status_bg" => &mut self.status_bg,
            "status_fg" => &mut self.status_fg,
            "key" => &mut self.key,
            "chart_1" => &mut self.chart_1,
            "chart_2" => &mut self.chart_2,
            "chart_3" => &mut self.chart_3,
            _ => return None,
        })
    }

    fn blank(name: &str) -> Theme {
        let c = Color::Reset;
        Theme {
            name: name.into(),
            bg: c,
            fg: c,
            dim: c,
            border: c,
            border_focus: c,
            title: c,
            accent: c,
            strong: c,
            weak: c,
            left: c,
            right: c,
            good: c,
            bad: c,
            warn: c,
            selection_bg: c,
            selection_fg: c,
            status_bg: c,
            status_fg: c,
            key: c,
            chart_1: c,
            chart_2: c,
            chart_3: c,
            mono: false,
        }
    }

    /// This theme as a terminal of `depth` can show it: RGB colours mapped to the nearest of
    /// the 256 or 16 palette colours, or, without colour, every colour the terminal's default.
    pub fn for_depth(mut self, depth: ColorDepth) -> Theme {
        let map = |c: Color| match (depth, c) {
            (ColorDepth::Mono, _) => Color::Reset,
            (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256(r, g, b)),
            (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => nearest_16(r, g, b),
            (ColorDepth::Ansi16, Color::Indexed(i)) if i >= 16 => Color::Reset,
            _ => c,
        };
        for k in KEYS {
            let slot = self.slot(k).expect("every key has a slot");
            *slot = map(*slot);
        }
        self.mono = depth == ColorDepth::Mono;
        self
    }

    /// Applies a theme file's keys on top of `self`. With `complete`, every key must be set.
    fn apply(&mut self, text: &str, origin: &str, complete: bool) -> Result<()> {
        let table: toml::Table = toml::from_str(text).with_context(|| format!("{origin} is not valid TOML"))?;
        for (k, v) in &table {
            if k == "extends" {
                continue;
            }
            let Some(s) = v.as_str() else { bail!("{origin}: {k} must be a string color") };
            let color = parse_color(s).with_context(|| format!("{origin}: {k}"))?;
            *self.slot(k).with_context(|| format!("{origin}: unknown key {k:?}; known: {}", KEYS.join(", ")))? = color;
        }
        if complete {
            for k in KEYS {
                if !table.contains_key(*k) {
                    bail!("{origin}: missing key {k}");
                }
            }
        }
        Ok(())
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        let (n, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        let mut t = Theme::blank(n);
        t.apply(text, &format!("built-in theme {n}"), true).expect("built-in themes are valid");
        Some(t)
    }

    pub fn dark() -> Theme {
        Theme::builtin(DEFAULT).expect("dark is built in")
    }

    // Style helpers used by the views.
    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }
    pub fn dimmed(&self) -> Style {
        Style::default().fg(self.dim)
    }
    pub fn border_style(&self, focused: bool) -> Style {
        Style::default().fg(if focused { self.border_focus } else { self.border })
    }
    pub fn title_style(&self) -> Style {
        Style::default().fg(self.title).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        let s = Style::default().fg(self.selection_fg).bg(self.selection_bg).add_modifier(Modifier::BOLD);
        if self.mono {
            s.add_modifier(Modifier::REVERSED)
        } else {
            s
        }
    }
    pub fn status(&self) -> Style {
        let s = Style::default().fg(self.status_fg).bg(self.status_bg);
        if self.mono {
            s.add_modifier(Modifier::REVERSED)
        } else {
            s
        }
    }
    pub fn key_style(&self) -> Style {
        Style::default().fg(self.key).add_modifier(Modifier::BOLD)
    }
}

/// The themes a user can cycle through: built-ins, then user themes, user files
/// overriding built-ins of the same name.
#[derive(Debug, Clone)]
pub struct ThemeSet {
    pub themes: Vec<Theme>,
    /// Problems found in user theme files (shown in the status line, logged).
    pub warnings: Vec<String>,
}

impl ThemeSet {
    pub fn builtin() -> ThemeSet {
        ThemeSet { themes: BUILTIN.iter().map(|(n, _)| Theme::builtin(n).unwrap()).collect(), warnings: vec![] }
    }

    /// Built-ins plus `<config>/themes/*.toml`.
    pub fn load(config_dir: &Path) -> ThemeSet {
        let mut set = ThemeSet::builtin();
        let dir = config_dir.join("themes");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for path in files {
            let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
            match set.load_user(&name, &path) {
                Ok(t) => match set.themes.iter_mut().find(|x| x.name == name) {
                    Some(slot) => *slot = t,
                    None => set.themes.push(t),
                },
                Err(e) => {
                    tracing::warn!("theme {}: {e:#}", path.display());
                    set.warnings.push(format!("{e:#}"));
                }
            }
        }
        set
    }

    fn load_user(&self, name: &str, path: &Path) -> Result<Theme> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let table: BTreeMap<String, toml::Value> =
            toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
        let base_name = table.get("extends").and_then(|v| v.as_str()).map(str::to_string);
        let mut t = match base_name {
            Some(b) => {
                self.get(&b).cloned().with_context(|| format!("{}: extends unknown theme {b:?}", path.display()))?
            }
            None => Theme::builtin(name).unwrap_or_else(Theme::dark),
        };
        t.name = name.to_string();
        t.apply(&text, &path.display().to_string(), false)?;
        Ok(t)
    }

    pub fn get(&self, name: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.name == name)
    }

    pub fn names(&self) -> Vec<String> {
        self.themes.iter().map(|t| t.name.clone()).collect()
    }

    /// Every theme as a terminal of `depth` shows it ([`Theme::for_depth`]).
    pub fn for_depth(mut self, depth: ColorDepth) -> ThemeSet {
        self.themes = self.themes.into_iter().map(|t| t.for_depth(depth)).collect();
        self
    }

    /// The theme after `name`, wrapping around.
    pub fn next_after(&self, name: &str) -> Theme {
        let i = self.themes.iter().position(|t| t.name == name).map(|i| (i + 1) % self.themes.len()).unwrap_or(0);
        self.themes[i].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_cycle() {
        let set = ThemeSet::builtin();
        assert_eq!(set.names(), vec!["dark", "light", "high-contrast"]);
        assert_eq!(set.next_after("dark").name, "light");
        assert_eq!(set.next_after("high-contrast").name, "dark");
        assert_eq!(Theme::dark().bg, Color::Rgb(0x1e, 0x1f, 0x29));
    }

    #[test]
    fn colour_depth_follows_no_color_colorterm_and_term() {
        use ColorDepth::*;
        assert_eq!(ColorDepth::from_vars(Some("1"), Some("truecolor"), Some("xterm-256color")), Mono);
        assert_eq!(ColorDepth::from_vars(Some(""), Some("truecolor"), None), TrueColor, "an empty NO_COLOR is unset");
        assert_eq!(ColorDepth::from_vars(None, None, Some("dumb")), Mono);
        assert_eq!(ColorDepth::from_vars(None, Some("24bit"), Some("xterm")), TrueColor);
        assert_eq!(ColorDepth::from_vars(None, None, Some("tmux-256color")), Ansi256);
        assert_eq!(ColorDepth::from_vars(None, None, Some("screen")), Ansi16);
        assert_eq!(ColorDepth::from_vars(None, None, None), Ansi16);
    }

    #[test]
    fn palettes_map_to_the_nearest_colour() {
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(255, 255, 255), 231);
        assert_eq!(nearest_256(255, 0, 0), 196);
        assert_eq!(nearest_256(128, 128, 128), 244, "greys use the grey ramp (244 is 128,128,128)");
        assert_eq!(nearest_16(250, 10, 10), Color::LightRed);
        assert_eq!(nearest_16(20, 20, 30), Color::Black);
        let mut mono = Theme::dark().for_depth(ColorDepth::Mono);
        for k in KEYS {
            assert_eq!(*mono.slot(k).unwrap(), Color::Reset, "{k}");
        }
        assert!(mono.selected().add_modifier.contains(Modifier::REVERSED));
        let t256 = Theme::dark().for_depth(ColorDepth::Ansi256);
        assert!(matches!(t256.bg, Color::Indexed(_)));
        assert_eq!(Theme::dark().for_depth(ColorDepth::TrueColor), Theme::dark());
    }

    #[test]
    fn user_themes_override_and_extend() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        std::fs::write(dir.path().join("themes/light.toml"), "accent = \"#010203\"\n").unwrap();
        std::fs::write(dir.path().join("themes/solar.toml"), "extends = \"light\"\nbg = \"dark_gray\"\n").unwrap();
        std::fs::write(dir.path().join("themes/broken.toml"), "bg = \"chartreuse-ish\"\n").unwrap();
        let set = ThemeSet::load(dir.path());
        let light = set.get("light").unwrap();
        assert_eq!(light.accent, Color::Rgb(1, 2, 3));
        assert_eq!(light.fg, Theme::builtin("light").unwrap().fg);
        let solar = set.get("solar").unwrap();
        assert_eq!(solar.bg, Color::DarkGray);
        assert_eq!(solar.accent, Color::Rgb(1, 2, 3), "extends the overridden light");
        assert!(set.get("broken").is_none());
        assert_eq!(set.warnings.len(), 1);
    }
}
