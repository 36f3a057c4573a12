//! Per-screen keymaps, remappable from `<config>/keys.toml`.
//!
//! The help overlay (`?`) and the status bar are built from the very [`Keymap`] that
//! dispatches keys, so what they show is always what the keys do.
//!
//! `keys.toml` maps actions to keys, per screen; naming an action replaces all of its
//! default keys in that screen, and a key given to a new action is taken from the old one:
//!
//! ```toml
//! [global]
//! cycle-theme = "F2"
//! [debate]
//! skip = ["x", "ctrl-s"]
//! rationale = "n"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Which keymap applies: one per screen, plus the global one consulted after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Debate,
    Review,
    Train,
    Models,
    /// A form with text fields (the Train screen's new experiment): only its own keys, the
    /// rest is typed into the field.
    Form,
}

impl Scope {
    pub const ALL: [Scope; 6] = [Scope::Global, Scope::Debate, Scope::Review, Scope::Train, Scope::Models, Scope::Form];

    /// Whether the global keymap applies too (not in a form, where keys are text).
    pub fn with_global(&self) -> bool {
        *self != Scope::Form
    }

    pub fn name(&self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Debate => "debate",
            Scope::Review => "review",
            Scope::Train => "train",
            Scope::Models => "models",
            Scope::Form => "form",
        }
    }
}

/// One key with its modifiers (shift is folded into the character for printable keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Self {
        Key { code, mods: KeyModifiers::NONE }
    }
    pub const fn ch(c: char) -> Self {
        Key::plain(KeyCode::Char(c))
    }
    pub const fn ctrl(c: char) -> Self {
        Key { code: KeyCode::Char(c), mods: KeyModifiers::CONTROL }
    }

    /// Normalizes a terminal key event: shift is dropped for characters (`?` not `shift-?`),
    /// and BackTab stands for shift-tab.
    pub fn from_event(e: &KeyEvent) -> Self {
        let mut mods = e.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match e.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) { c.to_ascii_lowercase() } else { c })
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            c => c,
        };
        Key { code, mods }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Delete => f.write_str("del"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::str::FromStr for Key {
    type Err = String;
    /// Parses `a`, `?`, `ctrl-c`, `alt-x`, `shift-tab`, `enter`, `esc`, `space`, `up`, `pgdn`, `F2`, …
    fn from_str(s: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else if rest.len() > 1 && (lower.starts_with("shift-") || lower.starts_with("shift+")) {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "space" => KeyCode::Char(' '),
            "up" | "↑" => KeyCode::Up,
            "down" | "↓" => KeyCode::Down,
            "left" | "←" => KeyCode::Left,
            "right" | "→" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "del" | "delete" => KeyCode::Delete,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap())
            }
            _ => {
                let mut cs = rest.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => {
                        if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                            mods.remove(KeyModifiers::SHIFT);
                            KeyCode::Char(c.to_ascii_uppercase())
                        } else {
                            KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) { c.to_ascii_lowercase() } else { c })
                        }
                    }
                    _ => return Err(format!("unknown key {s:?}")),
                }
            }
        };
        if let KeyCode::Char(_) = code {
            mods.remove(KeyModifiers::SHIFT);
        }
        Ok(Key { code, mods })
    }
}

/// Bindings of one scope, in the order the help overlay lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings(pub Vec<(Action, Vec<Key>)>);

impl Bindings {
    pub fn action_for(&self, key: &Key) -> Option<Action> {
        self.0.iter().find(|(_, ks)| ks.contains(key)).map(|(a, _)| *a)
    }

    pub fn keys_for(&self, action: Action) -> Option<&[Key]> {
        self.0.iter().find(|(a, _)| *a == action).map(|(_, k)| k.as_slice())
    }

    /// Binds `action` to exactly `keys`, taking those keys from any other action.
    pub fn set(&mut self, action: Action, keys: Vec<Key>) {
        for (_, ks) in self.0.iter_mut() {
            ks.retain(|k| !keys.contains(k));
        }
        match self.0.iter_mut().find(|(a, _)| *a == action) {
            Some((_, ks)) => *ks = keys,
            None => self.0.push((action, keys)),
        }
        self.0.retain(|(_, ks)| !ks.is_empty());
    }
}

/// All scopes' bindings.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    pub scopes: BTreeMap<Scope, Bindings>,
}

fn b(a: Action, keys: &[Key]) -> (Action, Vec<Key>) {
    (a, keys.to_vec())
}

impl Default for Keymap {
    fn default() -> Self {
        use Action::*;
        use KeyCode as K;
        let p = Key::plain;
        let c = Key::ch;
        let mut scopes = BTreeMap::new();
        scopes.insert(
            Scope::Global,
            Bindings(vec![
                b(Help, &[c('?')]),
                b(Quit, &[c('q'), Key::ctrl('q')]),
                b(Cancel, &[p(K::Esc), Key::ctrl('c')]),
                b(NextScreen, &[p(K::Tab)]),
                b(PrevScreen, &[p(K::BackTab)]),
                b(ScreenDebate, &[p(K::F(1))]),
                b(ScreenReview, &[p(K::F(2))]),
                b(ScreenTrain, &[p(K::F(3))]),
                b(ScreenModels, &[p(K::F(4))]),
                b(CycleTheme, &[c('t')]),
                b(Up, &[c('k'), p(K::Up)]),
                b(Down, &[c('j'), p(K::Down)]),
                b(PageUp, &[p(K::PageUp), Key::ctrl('u')]),
                b(PageDown, &[p(K::PageDown), Key::ctrl('d'), c(' ')]),
                b(Top, &[c('g'), p(K::Home)]),
                b(Bottom, &[c('G'), p(K::End)]),
            ]),
        );
        let mut debate = vec![];
        for n in 1..=9u8 {
            debate.push(b(Confidence(n), &[c((b'0' + n) as char)]));
        }
        debate.extend([
            b(NudgeLeft, &[c('['), p(K::Left)]),
            b(NudgeRight, &[c(']'), p(K::Right)]),
            b(Submit, &[p(K::Enter)]),
            b(Undo, &[c('u')]),
            b(Skip, &[c('s')]),
            b(Rationale, &[c('r')]),
            b(FocusNext, &[c('w')]),
            b(NewDebate, &[c('n')]),
        ]);
        scopes.insert(Scope::Debate, Bindings(debate));
        scopes.insert(
            Scope::Review,
            Bindings(vec![
                b(Open, &[p(K::Enter)]),
                b(NextItem, &[c('n'), p(K::Right)]),
                b(PrevItem, &[c('p'), p(K::Left)]),
                b(Sort, &[c('o')]),
                b(ReverseSort, &[c('O')]),
                b(Filter, &[c('f')]),
                b(Search, &[c('/')]),
                b(Stats, &[c('c')]),
                b(Compare, &[c('m')]),
                b(FocusNext, &[c('w')]),
                b(Refresh, &[c('R')]),
                b(Export, &[c('x')]),
                b(TrainFromSession, &[c('T')]),
            ]),
        );
        scopes.insert(
            Scope::Train,
            Bindings(vec![
                b(Run, &[c('r')]),
                b(Pause, &[c('p')]),
                b(StepStage, &[c('n')]),
                b(Open, &[p(K::Enter)]),
                b(Experiments, &[c('e')]),
                b(NewExperiment, &[c('c')]),
            ]),
        );
        scopes.insert(
            Scope::Form,
            Bindings(vec![
                b(Complete, &[p(K::Tab)]),
                b(Down, &[p(K::Down)]),
                b(Up, &[p(K::Up), p(K::BackTab)]),
                b(Submit, &[p(K::Enter)]),
                b(ClearField, &[Key::ctrl('u')]),
                b(Cancel, &[p(K::Esc), Key::ctrl('c')]),
            ]),
        );
        scopes.insert(
            Scope::Models,
            Bindings(vec![b(Pull, &[p(K::Enter), c('p')]), b(PullDefaults, &[c('P')]), b(Refresh, &[c('R')])]),
        );
        Keymap { scopes }
    }
}

impl Keymap {
    /// The action for `key` on a screen: the screen's own bindings first, then global.
    pub fn action(&self, scope: Scope, key: &Key) -> Option<Action> {
        self.scopes.get(&scope).and_then(|b| b.action_for(key)).or_else(|| {
            scope.with_global().then(|| self.scopes.get(&Scope::Global).and_then(|b| b.action_for(key))).flatten()
        })
    }

    /// The keys of `action` on a screen (screen bindings shadow global ones).
    pub fn keys(&self, scope: Scope, action: Action) -> Vec<Key> {
        let own = self.scopes.get(&scope).and_then(|b| b.keys_for(action));
        let global = self.scopes.get(&Scope::Global).filter(|_| scope.with_global()).and_then(|b| b.keys_for(action));
        own.or(global)
            .map(|ks| ks.iter().copied().filter(|k| self.action(scope, k) == Some(action)).collect())
            .unwrap_or_default()
    }

    /// `"1 2"`-style text of an action's keys on a screen, or `None` when unbound.
    pub fn key_text(&self, scope: Scope, action: Action) -> Option<String> {
        let ks = self.keys(scope, action);
        (!ks.is_empty()).then(|| ks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(" "))
    }

    /// `1-9` when the confidence keys are the digits, else each key.
    pub fn confidence_keys(&self, scope: Scope) -> Option<String> {
        let keys: Vec<String> = (1..=9).filter_map(|n| self.key_text(scope, Action::Confidence(n))).collect();
        if keys.is_empty() {
            return None;
        }
        let digits: Vec<String> = (1..=9).map(|n| n.to_string()).collect();
        Some(if keys == digits { "1-9".into() } else { keys.join(",") })
    }

    /// Every binding reachable on a screen, screen first then global (shadowed keys removed),
    /// for the help overlay.
    pub fn help_rows(&self, scope: Scope) -> Vec<(String, Action)> {
        let mut rows = Vec::new();
        let mut push = |s: Scope| {
            if let Some(bs) = self.scopes.get(&s) {
                for (a, ks) in &bs.0 {
                    let live: Vec<String> =
                        ks.iter().filter(|k| self.action(scope, k) == Some(*a)).map(|k| k.to_string()).collect();
                    if !live.is_empty() && !rows.iter().any(|(_, x)| x == a) {
                        rows.push((live.join(" "), *a));
                    }
                }
            }
        };
        if scope != Scope::Global {
            push(scope);
        }
        if scope.with_global() {
            push(Scope::Global);
        }
        rows
    }

    /// Applies a `keys.toml` text on top of this keymap.
    pub fn apply_toml(&mut self, text: &str, origin: &str) -> Result<()> {
        let table: toml::Table = toml::from_str(text).with_context(|| format!("{origin} is not valid TOML"))?;
        for (scope_name, v) in table {
            let scope = Scope::ALL.into_iter().find(|s| s.name() == scope_name).with_context(|| {
                format!("{origin}: unknown section [{scope_name}]; use global, debate, review, train, models or form")
            })?;
            let Some(t) = v.as_table() else { bail!("{origin}: [{scope_name}] must be a table of action = key(s)") };
            for (action_name, keys) in t {
                let action: Action =
                    action_name.parse().map_err(|e: String| anyhow::anyhow!("{origin} [{scope_name}]: {e}"))?;
                let names: Vec<String> = match keys {
                    toml::Value::String(s) => vec![s.clone()],
                    toml::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
                    _ => bail!("{origin} [{scope_name}] {action_name}: give a key string or a list of them"),
                };
                let keys = names
                    .iter()
                    .map(|n| {
                        n.parse::<Key>().map_err(|e| anyhow::anyhow!("{origin} [{scope_name}] {action_name}: {e}"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.scopes.entry(scope).or_default().set(action, keys);
            }
        }
        Ok(())
    }

    /// The default keymap with `<config>/keys.toml` applied when it exists.
    pub fn load(config_dir: &Path) -> Result<Keymap> {
        let mut km = Keymap::default();
        let path = config_dir.join("keys.toml");
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            km.apply_toml(&text, &path.display().to_string())?;
        }
        Ok(km)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys() {
        assert_eq!("ctrl-c".parse::<Key>().unwrap(), Key::ctrl('c'));
        assert_eq!("?".parse::<Key>().unwrap(), Key::ch('?'));
        assert_eq!("shift-tab".parse::<Key>().unwrap(), Key::plain(KeyCode::BackTab));
        assert_eq!("F2".parse::<Key>().unwrap(), Key::plain(KeyCode::F(2)));
        assert_eq!("shift-g".parse::<Key>().unwrap(), Key::ch('G'));
        assert_eq!("space".parse::<Key>().unwrap(), Key::ch(' '));
        for k in ["ctrl-c", "?", "enter", "esc", "F3", "pgdn", "alt-x"] {
            let key: Key = k.parse().unwrap();
            assert_eq!(key.to_string().parse::<Key>().unwrap(), key, "{k}");
        }
    }

    #[test]
    fn screen_bindings_shadow_global() {
        let km = Keymap::default();
        assert_eq!(km.action(Scope::Debate, &Key::ch('s')), Some(Action::Skip));
        assert_eq!(km.action(Scope::Debate, &Key::ch('?')), Some(Action::Help));
        assert_eq!(km.action(Scope::Train, &Key::ch('r')), Some(Action::Run));
        // `space` pages down everywhere.
        assert_eq!(km.action(Scope::Review, &Key::ch(' ')), Some(Action::PageDown));
    }

    #[test]
    fn toml_remaps_and_help_follows() {
        let mut km = Keymap::default();
        km.apply_toml(
            "[debate]\nskip = [\"x\", \"ctrl-s\"]\nrationale = \"s\"\n[global]\ncycle-theme = \"F9\"\n",
            "test",
        )
        .unwrap();
        assert_eq!(km.action(Scope::Debate, &Key::ch('x')), Some(Action::Skip));
        assert_eq!(km.action(Scope::Debate, &Key::ch('s')), Some(Action::Rationale));
        assert_eq!(km.action(Scope::Debate, &Key::ch('r')), None);
        assert_eq!(km.key_text(Scope::Debate, Action::Skip).unwrap(), "x ctrl-s");
        let help = km.help_rows(Scope::Debate);
        assert!(help.iter().any(|(k, a)| k == "F9" && *a == Action::CycleTheme));
        assert!(!help.iter().any(|(k, _)| k == "t"));
        assert!(km.apply_toml("[debate]\nfly = \"z\"", "test").is_err());
        // A form has only its own keys: the rest is text, and its help lists no global key.
        let form = Keymap::default();
        assert_eq!(form.action(Scope::Form, &Key::plain(KeyCode::Tab)), Some(Action::Complete));
        assert_eq!(form.action(Scope::Form, &Key::ch('q')), None);
        assert!(form.keys(Scope::Form, Action::Quit).is_empty());
        assert!(!form.help_rows(Scope::Form).iter().any(|(_, a)| *a == Action::Quit));
        km.apply_toml("[form]\ncomplete = \"ctrl-n\"", "test").unwrap();
        assert_eq!(km.action(Scope::Form, &Key::ctrl('n')), Some(Action::Complete));
        assert!(km.apply_toml("[nowhere]\nskip = \"z\"", "test").is_err());
    }
}
