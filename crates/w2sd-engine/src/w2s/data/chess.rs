//! `builtin:chess`: generated mate-in-one positions, labelled by legal-move search.
//!
//! Positions come from seeded random playouts from the initial position (captures are
//! preferred half of the time, which thins the board and makes mates appear sooner).
//! After ply 8, every position where the side to move has at least one mating move is a
//! candidate; each playout contributes at most one position and duplicate FENs are
//! dropped. A move mates when, after playing it, the opponent is in check with no legal
//! move (shakmaty's `is_checkmate`).
//!
//! Each position gives two binary examples in one group: a mating move (label 1) and a
//! non-mating legal move (label 0; a checking one when there is any, so "gives check"
//! alone does not solve the task). Moves are written in SAN **without** the `+`/`#`
//! suffix (which would give the answer away) and in UCI.

use anyhow::{bail, Result};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use shakmaty::fen::Fen;
use shakmaty::san::San;
use shakmaty::uci::UciMove;
use shakmaty::{CastlingMode, Chess, Color, EnPassantMode, Move, Position};

use super::{Dataset, Example, TaskKind};
use crate::tasks::TaskItem;

/// One generated mate-in-one position.
#[derive(Debug, Clone, PartialEq)]
pub struct MateInOne {
    pub id: String,
    pub fen: String,
    pub white_to_move: bool,
    /// Every mating move, UCI.
    pub mates: Vec<String>,
    /// The mating candidate `(san, uci)`.
    pub mate: (String, String),
    /// The non-mating candidate `(san, uci)`.
    pub decoy: (String, String),
    /// Whether the decoy gives check.
    pub decoy_checks: bool,
}

fn san(pos: &Chess, m: Move) -> String {
    San::from_move(pos, m).to_string()
}

fn uci(m: Move) -> String {
    UciMove::from_move(m, CastlingMode::Standard).to_string()
}

/// Whether playing `m` in `pos` mates.
pub fn is_mating(pos: &Chess, m: Move) -> bool {
    let mut p = pos.clone();
    p.play_unchecked(m);
    p.is_checkmate()
}

/// Whether playing `m` in `pos` gives check.
fn gives_check(pos: &Chess, m: Move) -> bool {
    let mut p = pos.clone();
    p.play_unchecked(m);
    p.is_check()
}

/// Generates `n` distinct mate-in-one positions (seeded).
pub fn generate(n: usize, seed: u64) -> Result<Vec<MateInOne>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xc4e5_5000);
    let mut out = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    let max_playouts = 200 * n.max(1) + 1000;
    let mut playouts = 0;
    while out.len() < n {
        playouts += 1;
        if playouts > max_playouts {
            bail!("found only {} mate-in-one positions in {max_playouts} playouts", out.len());
        }
        let mut pos = Chess::default();
        for ply in 0..300 {
            let legal = pos.legal_moves();
            if legal.is_empty() || pos.is_insufficient_material() {
                break;
            }
            if ply >= 8 {
                let mates: Vec<Move> = legal.iter().copied().filter(|&m| is_mating(&pos, m)).collect();
                if !mates.is_empty() {
                    let fen = Fen::from_position(&pos, EnPassantMode::Legal).to_string();
                    let others: Vec<Move> = legal.iter().copied().filter(|m| !mates.contains(m)).collect();
                    if others.is_empty() || !seen.insert(fen.clone()) {
                        break;
                    }
                    let checks: Vec<Move> = others.iter().copied().filter(|&m| gives_check(&pos, m)).collect();
                    let decoy = *checks.choose(&mut rng).unwrap_or_else(|| others.choose(&mut rng).unwrap());
                    let mate = *mates.choose(&mut rng).unwrap();
                    out.push(MateInOne {
                        id: format!("chess-{}", out.len()),
                        white_to_move: pos.turn() == Color::White,
                        mates: mates.iter().map(|&m| uci(m)).collect(),
                        mate: (san(&pos, mate), uci(mate)),
                        decoy: (san(&pos, decoy), uci(decoy)),
                        decoy_checks: gives_check(&pos, decoy),
                        fen,
                    });
                    break;
                }
            }
            let captures: Vec<Move> = legal.iter().copied().filter(|m| m.is_capture()).collect();
            let m = if !captures.is_empty() && rng.random_bool(0.5) {
                *captures.choose(&mut rng).unwrap()
            } else {
                *legal.choose(&mut rng).unwrap()
            };
            pos.play_unchecked(m);
        }
    }
    Ok(out)
}

/// The example text of one candidate move.
pub fn candidate_text(p: &MateInOne, san: &str, uci: &str) -> String {
    let side = if p.white_to_move { "White" } else { "Black" };
    format!(
        "Chess position (FEN): {}\n{side} to move.\nCandidate move: {san} ({uci})\nDoes this move deliver checkmate?",
        p.fen
    )
}

/// `builtin:chess` as binary examples: two per position (see the module docs).
pub fn dataset(n: usize, seed: u64) -> Result<Dataset> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x000c_4e55);
    let mut examples = Vec::with_capacity(2 * n);
    for p in generate(n, seed)? {
        let mut pair = vec![
            Example {
                id: format!("{}/mate", p.id),
                group: p.id.clone(),
                text: candidate_text(&p, &p.mate.0, &p.mate.1),
                label: true,
                pair: None,
            },
            Example {
                id: format!("{}/decoy", p.id),
                group: p.id.clone(),
                text: candidate_text(&p, &p.decoy.0, &p.decoy.1),
                label: false,
                pair: None,
            },
        ];
        if rng.random_bool(0.5) {
            pair.swap(0, 1);
        }
        examples.extend(pair);
    }
    let mut ds = Dataset::new(TaskKind::Chess, examples);
    ds.spec = "builtin:chess".into();
    Ok(ds)
}

/// The same positions as two-choice task items ("which move mates?"), for debates.
pub fn items(n: usize, seed: u64) -> Result<Vec<TaskItem>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x000c_4e56);
    Ok(generate(n, seed)?
        .into_iter()
        .map(|p| {
            let side = if p.white_to_move { "White" } else { "Black" };
            let mate_first = rng.random_bool(0.5);
            let (a, b) = if mate_first { (&p.mate, &p.decoy) } else { (&p.decoy, &p.mate) };
            let mut meta = serde_json::Map::new();
            meta.insert("fen".into(), p.fen.clone().into());
            meta.insert("mates_uci".into(), p.mates.clone().into());
            TaskItem {
                id: p.id.clone(),
                question: format!("Chess position (FEN): {}\n{side} to move. Which move delivers checkmate?", p.fen),
                choices: vec![format!("{} ({})", a.0, a.1), format!("{} ({})", b.0, b.1)],
                answer: usize::from(!mate_first),
                passage: None,
                meta,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shakmaty::fen::Fen;

    #[test]
    fn generated_positions_are_verified_mates_in_one() {
        let ps = generate(30, 11).unwrap();
        assert_eq!(ps.len(), 30);
        assert_eq!(ps, generate(30, 11).unwrap());
        let fens: std::collections::HashSet<_> = ps.iter().map(|p| p.fen.clone()).collect();
        assert_eq!(fens.len(), 30, "FENs are distinct");
        for p in &ps {
            // Re-parse the FEN independently and check both candidates by search.
            let pos: Chess = p.fen.parse::<Fen>().unwrap().into_position(CastlingMode::Standard).unwrap();
            let by_uci = |u: &str| {
                let m = u.parse::<UciMove>().unwrap().to_move(&pos).unwrap();
                is_mating(&pos, m)
            };
            assert!(by_uci(&p.mate.1), "{} {:?}", p.fen, p.mate);
            assert!(!by_uci(&p.decoy.1), "{} {:?}", p.fen, p.decoy);
            assert!(p.mates.contains(&p.mate.1));
            // SAN is written without the check/mate suffix
            assert!(!p.mate.0.contains('#') && !p.decoy.0.contains('+'));
        }
    }

    #[test]
    fn a_known_position() {
        // Fool's mate: after 1. f3 e5 2. g4, Black mates with Qh4#.
        let pos: Chess = "rnbqkbnr/pppp1ppp/8/4p3/6P1/5P2/PPPPP2P/RNBQKBNR b KQkq - 0 2"
            .parse::<Fen>()
            .unwrap()
            .into_position(CastlingMode::Standard)
            .unwrap();
        let mates: Vec<String> = pos.legal_moves().iter().filter(|&&m| is_mating(&pos, m)).map(|&m| uci(m)).collect();
        assert_eq!(mates, vec!["d8h4".to_string()]);
    }

    #[test]
    fn dataset_and_items() {
        let ds = dataset(10, 2).unwrap();
        assert_eq!(ds.examples.len(), 20);
        assert_eq!(ds.examples.iter().filter(|e| e.label).count(), 10);
        assert!(ds.examples[0].text.starts_with("Chess position (FEN): "));
        let items = items(5, 2).unwrap();
        for it in &items {
            it.validate().unwrap();
        }
    }
}
