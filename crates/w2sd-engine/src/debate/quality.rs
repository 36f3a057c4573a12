//! What makes a turn an argument rather than noise, as pure functions: copy overlap
//! with the opponent, trimming at the token budget, quotes checked against the
//! passage, stop strings from the templates, and prompt-leak detection.

use crate::session::{Side, Turn};

/// A turn whose [`copy_overlap`] exceeds this is regenerated, then flagged as copied.
pub const COPY_THRESHOLD: f64 = 0.5;
/// Regenerations (each with another sampling seed) before a turn is recorded as copied.
pub const COPY_RETRIES: usize = 2;
/// Appended to a turn trimmed at its token budget.
pub const CUT_MARK: &str = "…[cut]";
/// Word n-gram length of the copy measure.
pub const COPY_NGRAM: usize = 5;
/// Token run length a debater with `block_copies` may not take from its opponent (see
/// `runtime::NoCopy`): a word 5-gram is at least 5 tokens, so the block covers every
/// 5-gram [`copy_overlap`] counts, up to differences in tokenization.
pub const COPY_BLOCK_TOKENS: usize = 5;

/// Lower-cased words with the punctuation around them removed (`"Abuja," → "abuja"`).
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

fn ngrams(w: &[String], n: usize) -> Vec<&[String]> {
    if w.len() < n {
        return Vec::new();
    }
    (0..=w.len() - n).map(|i| &w[i..i + n]).collect()
}

/// Copy overlap of `text` against `earlier` (the opponent's earlier turns): the share
/// of the word 5-grams of `text` (see [`words`]) that occur in some text of `earlier`,
/// `|{g ∈ G(text) : g ∈ ∪ G(earlier)}| / |G(text)|`, counting repeated n-grams of
/// `text` each time. `None` when `earlier` is empty or `text` has fewer than 5 words.
pub fn copy_overlap(text: &str, earlier: &[&str]) -> Option<f64> {
    if earlier.is_empty() {
        return None;
    }
    let w = words(text);
    let mine = ngrams(&w, COPY_NGRAM);
    if mine.is_empty() {
        return None;
    }
    let theirs: Vec<Vec<String>> = earlier.iter().map(|t| words(t)).collect();
    let set: std::collections::HashSet<&[String]> = theirs.iter().flat_map(|t| ngrams(t, COPY_NGRAM)).collect();
    let hit = mine.iter().filter(|g| set.contains(*g)).count();
    Some(hit as f64 / mine.len() as f64)
}

/// The texts of the opponent's turns among `visible` (what [`copy_overlap`] compares
/// against), cancelled turns left out.
pub fn opponent_texts(visible: &[Turn], side: Side) -> Vec<&str> {
    visible.iter().filter(|t| t.side != side && !t.is_cancelled()).map(|t| t.text.as_str()).collect()
}

/// Whether `text` ends a sentence: its last non-space character (after closing quotes,
/// brackets and `</quote>` tags) is `.`, `!` or `?`.
pub fn ends_sentence(text: &str) -> bool {
    let mut t = text.trim_end();
    loop {
        let before = t.len();
        t = t.trim_end_matches(['"', '\'', ')', ']', '”', '’', '*']).trim_end();
        t = t.strip_suffix("</quote>").unwrap_or(t).trim_end();
        if t.len() == before {
            break;
        }
    }
    t.ends_with(['.', '!', '?'])
}

/// A turn stopped at its token budget: cut after the last complete sentence (a `.`,
/// `!` or `?` followed by a space or the end, not inside a number like `3.5`), and
/// [`CUT_MARK`] appended. Without a complete sentence the text is cut after its last
/// whole word. Always ends with the mark.
pub fn trim_at_budget(text: &str) -> String {
    let t = text.trim_end();
    let chars: Vec<(usize, char)> = t.char_indices().collect();
    let mut end = None;
    for (k, &(i, c)) in chars.iter().enumerate() {
        if matches!(c, '.' | '!' | '?') {
            let next = chars.get(k + 1).map(|x| x.1);
            if next.is_none_or(|n| n.is_whitespace() || n == '"' || n == '”' || n == ')') {
                let mut e = i + c.len_utf8();
                if let Some(n @ ('"' | '”' | ')')) = next {
                    e += n.len_utf8();
                }
                end = Some(e);
            }
        }
    }
    let kept = match end {
        Some(e) if e > 0 => t[..e].to_string(),
        _ => match t.rfind(char::is_whitespace) {
            Some(i) => t[..i].trim_end().to_string(),
            None => t.to_string(),
        },
    };
    format!("{} {CUT_MARK}", kept.trim_end())
}

/// Whether a turn ends in the middle of a sentence (after removing a [`CUT_MARK`]):
/// what a trimmed turn must never do.
pub fn cut_mid_sentence(text: &str) -> bool {
    let t = text.trim_end();
    let t = t.strip_suffix(CUT_MARK).unwrap_or(t).trim_end();
    !t.is_empty() && !ends_sentence(t)
}

/// Text normalised for quote matching: lower case, every run of non-alphanumeric
/// characters collapsed to one space, trimmed.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// Whether a quote is in the passage: its [`normalise`]d text is non-empty and a
/// substring of the normalised passage (so case, punctuation and spacing do not matter,
/// but every word must be there, in order, contiguous).
pub fn quote_verified(quote: &str, passage: Option<&str>) -> bool {
    let q = normalise(quote);
    match passage {
        Some(p) if !q.is_empty() => {
            let p = normalise(p);
            // Whole words only: pad both with spaces.
            format!(" {p} ").contains(&format!(" {q} "))
        }
        _ => false,
    }
}

/// What a piece of a turn is, for display and for the judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Plain,
    /// `<quote>…</quote>` found in the passage (the tags are not part of the span).
    VerifiedQuote,
    /// `<quote>…</quote>` not found in the passage.
    UnverifiedQuote,
    /// The [`CUT_MARK`] of a trimmed turn.
    Cut,
}

/// A byte range of a turn's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
}

/// Splits a turn into plain text, verified and unverified quotes and the cut mark.
/// Quote spans cover the quoted text without the `<quote>`/`</quote>` tags (the tags
/// themselves are left out of every span); an unclosed `<quote>` runs to the end of
/// the text (before a cut mark). Spans are in order and do not overlap.
pub fn turn_spans(text: &str, passage: Option<&str>) -> Vec<Span> {
    const OPEN: &str = "<quote>";
    const CLOSE: &str = "</quote>";
    let body_end =
        if text.trim_end().ends_with(CUT_MARK) { text.trim_end().len() - CUT_MARK.len() } else { text.len() };
    let mut spans = Vec::new();
    let mut pos = 0;
    let push = |spans: &mut Vec<Span>, start: usize, end: usize, kind: SpanKind| {
        if end > start {
            spans.push(Span { start, end, kind });
        }
    };
    while pos < body_end {
        match text[pos..body_end].find(OPEN) {
            None => {
                push(&mut spans, pos, body_end, SpanKind::Plain);
                pos = body_end;
            }
            Some(o) => {
                push(&mut spans, pos, pos + o, SpanKind::Plain);
                let qs = pos + o + OPEN.len();
                let (qe, next) = match text[qs..body_end].find(CLOSE) {
                    Some(c) => (qs + c, qs + c + CLOSE.len()),
                    None => (body_end, body_end),
                };
                let kind = if quote_verified(&text[qs..qe], passage) {
                    SpanKind::VerifiedQuote
                } else {
                    SpanKind::UnverifiedQuote
                };
                push(&mut spans, qs, qe, kind);
                pos = next;
            }
        }
    }
    if body_end < text.trim_end().len() {
        push(&mut spans, body_end, text.trim_end().len(), SpanKind::Cut);
    }
    spans
}

/// A turn as the judge reads it: each `<quote>x</quote>` becomes `<v_quote>x</v_quote>`
/// when [`quote_verified`] and `<u_quote>x</u_quote>` when not (as in llm_debate).
pub fn judge_text(text: &str, passage: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for s in turn_spans(text, passage) {
        let piece = &text[s.start..s.end];
        match s.kind {
            SpanKind::Plain | SpanKind::Cut => out.push_str(piece),
            SpanKind::VerifiedQuote => out.push_str(&format!("<v_quote>{piece}</v_quote>")),
            SpanKind::UnverifiedQuote => out.push_str(&format!("<u_quote>{piece}</u_quote>")),
        }
    }
    out
}

/// Quote counts of a turn: `(verified, unverified)`.
pub fn quote_counts(text: &str, passage: Option<&str>) -> (usize, usize) {
    let s = turn_spans(text, passage);
    (
        s.iter().filter(|x| x.kind == SpanKind::VerifiedQuote).count(),
        s.iter().filter(|x| x.kind == SpanKind::UnverifiedQuote).count(),
    )
}

/// Stop strings for a debater: the literal start of every line of its user template
/// (up to the first `{{placeholder}}`, at least 8 characters, e.g. `You defend the
/// answer "` is cut to `You defend the answer`), the role names the transcript uses
/// (`Your opponent said`, `You said`, `(Round `, `The debate so far`, and `Opponent:`, which a model
/// invents when it writes the other side's turn), and the headers a model invents
/// when it runs on into a new prompt (`Question:`, `Passage:`, `Argument:`, `Answer A:`).
pub fn stop_strings(user_template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in user_template.lines() {
        let lit = line.split("{{").next().unwrap_or("").trim();
        let lit = lit.trim_end_matches(['"', '\'', '(', ':']).trim_end();
        if lit.chars().count() >= 8 && !out.iter().any(|x| x == lit) {
            out.push(lit.to_string());
        }
    }
    for s in [
        // The protocol's own line (render.rs), after the template's first placeholder; a
        // debater echoing it was seen in the n = 200 comparison (debate 79).
        "Your opponent defends",
        "Your opponent said",
        // A role label a model invents when it runs on into the other side's turn (gemma-3-270m
        // as the strong debater wrote `…capital of Nigeria.\nOpponent: I argue that…`).
        "Opponent:",
        "You said:",
        "(Round ",
        "The debate so far",
        // Headers anywhere, not only at a line start: the consultant of debate 79 in the
        // n = 200 comparison labelled a quote `<quote>Passage: "…"`. The leak check
        // ([`leaks_prompt`]) counts them anywhere, so generation stops wherever it would.
        "Question:",
        "Passage:",
        "Argument:",
        "Answer A:",
    ] {
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// `text` without a `<quote>` tag left open at its end (what remains when generation
/// stops at a header written inside a quote, `…passage. <quote>Passage:`), spaces before
/// it trimmed; any other text unchanged.
pub fn drop_open_quote(text: &str) -> &str {
    let t = text.trim_end();
    match t.strip_suffix("<quote>") {
        Some(rest) => rest.trim_end(),
        None => text,
    }
}

/// Whether a turn contains prompt text: any of `stops` (see [`stop_strings`]),
/// compared case-sensitively, the leading `\n` of a header ignored.
pub fn leaks_prompt(text: &str, stops: &[String]) -> bool {
    stops.iter().map(|s| s.trim_start_matches('\n')).filter(|s| s.len() >= 6).any(|s| text.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_overlap_by_hand() {
        // 7 words → 3 five-grams; the opponent shares "the capital of nigeria is" only.
        let mine = "The capital of Nigeria is surely Islamabad";
        let theirs = "Abuja: the capital of Nigeria is Abuja, chosen in 1967";
        // my 5-grams: [the capital of nigeria is], [capital of nigeria is surely], [of nigeria is surely islamabad]
        assert_eq!(copy_overlap(mine, &[theirs]), Some(1.0 / 3.0));
        assert_eq!(copy_overlap(theirs, &[theirs]), Some(1.0));
        assert_eq!(copy_overlap(mine, &[]), None);
        assert_eq!(copy_overlap("too short", &[theirs]), None);
        assert_eq!(copy_overlap("one two three four five", &["six seven eight nine ten"]), Some(0.0));
    }

    #[test]
    fn trimming_keeps_whole_sentences() {
        assert_eq!(trim_at_budget("It is 3.5 km away. The bus leaves at no"), "It is 3.5 km away. …[cut]");
        assert_eq!(trim_at_budget("He said \"go.\" Then we wen"), "He said \"go.\" …[cut]");
        assert_eq!(trim_at_budget("no sentence end here at al"), "no sentence end here at …[cut]");
        assert!(!cut_mid_sentence(&trim_at_budget("First. Second half")));
        assert!(cut_mid_sentence("The bus leaves at"));
        assert!(!cut_mid_sentence("The bus leaves at noon."));
        assert!(ends_sentence("It is \"Abuja.\""));
        assert!(ends_sentence("It says <quote>The market is held every Sunday.</quote>"));
        assert!(!ends_sentence("It says <quote>The market is held</quote>"));
    }

    #[test]
    fn quotes_are_checked_against_the_passage() {
        let passage = "The key is in the shed. The bus leaves at 9:15 from Stop 4.";
        assert!(quote_verified("the KEY is in the shed", Some(passage)));
        assert!(quote_verified("leaves at 9 15", Some(passage)));
        assert!(!quote_verified("the key is in the attic", Some(passage)));
        assert!(!quote_verified("he shed", Some(passage)), "whole words only");
        assert!(!quote_verified("", Some(passage)));
        assert!(!quote_verified("the key", None));
        let t = "See <quote>The key is in the shed.</quote> and <quote>it is red</quote> ok …[cut]";
        let spans = turn_spans(t, Some(passage));
        let kinds: Vec<SpanKind> = spans.iter().map(|s| s.kind).collect();
        use SpanKind::*;
        assert_eq!(kinds, vec![Plain, VerifiedQuote, Plain, UnverifiedQuote, Plain, Cut]);
        assert_eq!(&t[spans[1].start..spans[1].end], "The key is in the shed.");
        assert_eq!(&t[spans[5].start..spans[5].end], CUT_MARK);
        assert_eq!(
            judge_text(t, Some(passage)),
            "See <v_quote>The key is in the shed.</v_quote> and <u_quote>it is red</u_quote> ok …[cut]"
        );
        assert_eq!(quote_counts(t, Some(passage)), (1, 1));
        // Unclosed quote runs to the end.
        assert_eq!(turn_spans("a <quote>purple key", Some(passage))[1].kind, UnverifiedQuote);
        assert_eq!(turn_spans("a <quote>the key", Some(passage))[1].kind, VerifiedQuote);
    }

    #[test]
    fn stop_strings_come_from_the_template() {
        let t = "{{passage}}Question: {{question}}\n{{transcript}}\nYou defend the answer \"{{my_answer}}\". {{opponent}}\nWrite your round {{round}}";
        let s = stop_strings(t);
        assert!(s.contains(&"You defend the answer".to_string()), "{s:?}");
        assert!(s.contains(&"Write your round".to_string()));
        assert!(s.contains(&"Your opponent said".to_string()));
        // debate 79 of the n = 200 comparison echoed the protocol's line after its answer
        assert!(leaks_prompt("I defend \"7:15\". Your opponent defends \"9:00\".", &s));
        assert!(!s.iter().any(|x| x.is_empty() || x.contains("{{")));
        assert!(leaks_prompt("Abuja is right. You defend the answer \"Sunday\". Your opponent defends", &s));
        assert!(!leaks_prompt("Abuja is the capital.", &s));
        // every header the leak check counts stops generation too, mid-line included
        assert!(s.contains(&"Passage:".to_string()) && s.contains(&"Question:".to_string()));
        for leak in ["<quote>Passage: \"Zara's lesson\"", "see Question: why", "Nigeria.\nOpponent: I argue"] {
            assert!(leaks_prompt(leak, &s) && s.iter().any(|x| leak.contains(x.as_str())), "{leak}");
        }
    }

    #[test]
    fn an_open_quote_tag_at_the_end_is_dropped() {
        assert_eq!(drop_open_quote("It is 9:00 in the passage.\n\n<quote>"), "It is 9:00 in the passage.");
        assert_eq!(drop_open_quote("It is 9:00. <quote> "), "It is 9:00.");
        assert_eq!(drop_open_quote("It is <quote>9:00</quote>"), "It is <quote>9:00</quote>");
        assert_eq!(drop_open_quote("no tag "), "no tag ");
    }
}
