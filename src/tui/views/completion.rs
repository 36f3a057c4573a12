//! Tab completion in the forms (new experiment, debate setup): one state machine for both.

/// Tab completion in progress on one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion<F> {
    pub field: F,
    /// Every candidate for the token being completed (shown under the field).
    pub candidates: Vec<String>,
    /// The candidate put in last, when tab cycles through them.
    pub index: Option<usize>,
    /// The field's text after the last completion (typing ends the cycle).
    pub applied: String,
}

/// One tab on field `field`, whose whole text is `value` = `head` + `token` (the token being
/// completed is the end of the text: a list's last item, or the whole value).
///
/// - The last tab on this field put in `value` while cycling: the next candidate.
/// - Otherwise `candidates()` decides: none → `None` (the text stays); one → it is put in
///   whole; several → their common prefix when it is longer than the token, else the first
///   candidate, and each later tab the next one.
///
/// Returns the field's new text and leaves the state of the cycle in `state`.
pub fn tab<F: Copy + PartialEq>(
    state: &mut Option<Completion<F>>,
    field: F,
    value: &str,
    head: &str,
    token: &str,
    candidates: impl FnOnce() -> Vec<String>,
) -> Option<String> {
    if let Some(c) = state.as_mut().filter(|c| c.field == field && c.applied == value) {
        if let Some(i) = c.index {
            let next = (i + 1) % c.candidates.len();
            let v = format!("{head}{}", c.candidates[next]);
            c.index = Some(next);
            c.applied = v.clone();
            return Some(v);
        }
    }
    let candidates = candidates();
    match candidates.len() {
        0 => {
            *state = None;
            None
        }
        1 => {
            *state = None;
            Some(format!("{head}{}", candidates[0]))
        }
        _ => {
            let lcp = common_prefix(&candidates);
            let (pick, index) = if lcp.len() > token.len() { (lcp, None) } else { (candidates[0].clone(), Some(0)) };
            let v = format!("{head}{pick}");
            *state = Some(Completion { field, candidates, index, applied: v.clone() });
            Some(v)
        }
    }
}

/// The longest common prefix of `v` (non-empty), cut at a character boundary.
pub fn common_prefix(v: &[String]) -> String {
    let first = &v[0];
    let mut end = first.len();
    for s in &v[1..] {
        end = end.min(first.bytes().zip(s.bytes()).take_while(|(a, b)| a == b).count());
    }
    while !first.is_char_boundary(end) {
        end -= 1;
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_candidate_whole_several_the_prefix_then_each_in_turn() {
        let mut s: Option<Completion<u8>> = None;
        let c = || vec!["builtin:reading".to_string(), "builtin:reviews".to_string()];
        // several: the common prefix first
        assert_eq!(tab(&mut s, 0, "b", "", "b", c).as_deref(), Some("builtin:re"));
        // the token is the prefix: the first, then the next, cycling
        assert_eq!(tab(&mut s, 0, "builtin:re", "", "builtin:re", c).as_deref(), Some("builtin:reading"));
        assert_eq!(tab(&mut s, 0, "builtin:reading", "", "builtin:reading", c).as_deref(), Some("builtin:reviews"));
        assert_eq!(tab(&mut s, 0, "builtin:reviews", "", "builtin:reviews", c).as_deref(), Some("builtin:reading"));
        // a list's last item keeps the head
        let mut s: Option<Completion<u8>> = None;
        assert_eq!(
            tab(&mut s, 1, "bow,gem", "bow,", "gem", || vec!["gemma-3-270m".into()]).as_deref(),
            Some("bow,gemma-3-270m")
        );
        assert_eq!(s, None);
        assert_eq!(tab(&mut s, 1, "x", "", "x", Vec::new), None);
        assert_eq!(common_prefix(&["é1".into(), "é2".into()]), "é");
    }
}
