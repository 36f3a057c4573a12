//! Prompt templates for debaters, judges and plain answering.
//!
//! The defaults are embedded in the binary (from `src/debate/prompts/*.txt`). A file
//! `<config_dir>/prompts/<name>.txt` overrides the template of that name. Templates use
//! `{{var}}` placeholders; every template used is recorded verbatim, with its source,
//! in the session's provenance.
//!
//! | template          | variables |
//! |-------------------|-----------|
//! | `debater_system`  | — |
//! | `debater_user`    | `passage`, `question`, `my_answer`, `opponent`, `transcript`, `round`, `rounds` |
//! | `debater_prefix`  | `my_answer` — the start of the debater's reply, written for the model (optional) |
//! | `judge_system`    | — |
//! | `judge_user`      | `passage`, `question`, `answer_a`, `answer_b`, `transcript` |
//! | `answer_system`   | — |
//! | `answer_user`     | `passage`, `question`, `choices`, `explanation` |
//!
//! Block variables (`passage`, `opponent`, `transcript`, `explanation`) are rendered by
//! the code and are empty when not applicable, so one template serves every protocol.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::session::PromptRecord;

/// The built-in templates: `(name, text)`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("debater_system", include_str!("prompts/debater_system.txt")),
    ("debater_user", include_str!("prompts/debater_user.txt")),
    ("debater_prefix", include_str!("prompts/debater_prefix.txt")),
    ("judge_system", include_str!("prompts/judge_system.txt")),
    ("judge_user", include_str!("prompts/judge_user.txt")),
    ("answer_system", include_str!("prompts/answer_system.txt")),
    ("answer_user", include_str!("prompts/answer_user.txt")),
];

/// A set of templates by name, each with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Templates {
    pub map: BTreeMap<String, PromptRecord>,
}

impl Templates {
    /// The built-in templates only.
    pub fn builtin() -> Templates {
        let map = BUILTIN
            .iter()
            .map(|(n, t)| (n.to_string(), PromptRecord { source: "builtin".into(), text: t.trim_end().to_string() }))
            .collect();
        Templates { map }
    }

    /// Built-ins overridden by `<config_dir>/prompts/<name>.txt` where such a file exists.
    pub fn load() -> Result<Templates> {
        Self::load_from(&crate::paths::config_dir().join("prompts"))
    }

    /// Built-ins, overridden or extended by every `<dir>/<name>.txt` (a missing `dir`
    /// means no overrides). A new pair `<x>_system.txt` + `<x>_user.txt` defines a
    /// debater template `x` that a profile can name.
    pub fn load_from(dir: &Path) -> Result<Templates> {
        let mut t = Self::builtin();
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(t),
            Err(e) => return Err(e).with_context(|| format!("cannot list prompt templates in {}", dir.display())),
        };
        let mut files: Vec<PathBuf> =
            rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "txt")).collect();
        files.sort();
        for p in files {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("cannot read prompt template {}", p.display()))?;
            t.map.insert(name, PromptRecord { source: p.display().to_string(), text: text.trim_end().to_string() });
        }
        Ok(t)
    }

    /// Checks that a debater template pair `<name>_system` / `<name>_user` exists.
    pub fn check_debater(&self, name: &str) -> Result<()> {
        for part in ["system", "user"] {
            let key = format!("{name}_{part}");
            if !self.map.contains_key(&key) {
                bail!(
                    "no prompt template {key:?}: a debater template needs {name}_system.txt and {name}_user.txt in {}",
                    crate::paths::config_dir().join("prompts").display()
                );
            }
        }
        Ok(())
    }

    /// Templates as recorded in a session (so a resumed or re-judged session uses the
    /// exact same text). Missing names fall back to the built-ins.
    pub fn from_records(records: &BTreeMap<String, PromptRecord>) -> Templates {
        let mut t = Self::builtin();
        for (k, v) in records {
            t.map.insert(k.clone(), v.clone());
        }
        t
    }

    /// The text of a template.
    pub fn text(&self, name: &str) -> Result<&str> {
        match self.map.get(name) {
            Some(r) => Ok(&r.text),
            None => bail!("no prompt template named {name:?}"),
        }
    }

    /// Renders `name` with `vars`; see [`render`].
    pub fn render(&self, name: &str, vars: &[(&str, &str)]) -> Result<String> {
        render(self.text(name)?, vars)
            .with_context(|| format!("in prompt template {name:?} ({})", self.map[name].source))
    }
}

/// Replaces every `{{var}}` in `template` by its value. A placeholder without a value
/// is an error (so a typo in a user template is caught, not sent to the model).
pub fn render(template: &str, vars: &[(&str, &str)]) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("unclosed placeholder \"{{{{\" in template");
        };
        let key = after[..end].trim();
        match vars.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => out.push_str(v),
            None => bail!(
                "unknown placeholder {{{{{key}}}}}; known here: {}",
                vars.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_and_rejects_unknown() {
        assert_eq!(render("a {{x}} b {{ y }}", &[("x", "1"), ("y", "2")]).unwrap(), "a 1 b 2");
        assert!(render("{{z}}", &[("x", "1")]).unwrap_err().to_string().contains("{{z}}"));
        assert!(render("{{x", &[("x", "1")]).is_err());
    }

    #[test]
    fn user_override_wins_and_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("judge_user.txt"), "Q: {{question}}\n").unwrap();
        std::fs::write(dir.path().join("terse_system.txt"), "Be terse.").unwrap();
        std::fs::write(dir.path().join("terse_user.txt"), "{{question}}").unwrap();
        let t = Templates::load_from(dir.path()).unwrap();
        t.check_debater("terse").unwrap();
        t.check_debater("debater").unwrap();
        assert!(t.check_debater("nope").is_err());
        assert!(Templates::load_from(&dir.path().join("missing")).unwrap() == Templates::builtin());
        assert_eq!(t.text("judge_user").unwrap(), "Q: {{question}}");
        assert!(t.map["judge_user"].source.ends_with("judge_user.txt"));
        assert_eq!(t.map["debater_user"].source, "builtin");
        assert_eq!(t.map.len(), BUILTIN.len() + 2);
    }
}
