//! Weak-to-strong training end to end: the `w2sd train` and `w2sd plot` commands, the
//! stage-by-stage API, resumption, the feature cache, and an independent recomputation
//! of every number in `results.json` from `predictions.jsonl`.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use w2sd::stats;
use w2sd::w2s::metrics;
use w2sd::w2s::pipeline::{Event, Experiment};
use w2sd::w2s::results::{read_predictions, PredictionRow, Results, RunKind};
use w2sd::w2s::{ExperimentConfig, StageId};

/// Runs `w2sd` with `args`, asserts success, and parses the last stdout line as JSON.
fn w2sd_json(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut cmd = Command::new(common::bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run w2sd");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "w2sd {args:?} failed:\n{stderr}\n{stdout}");
    serde_json::from_str(stdout.lines().last().expect("one JSON line"))
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"))
}

/// PGR as documented: `(s − w) / (c − w)`, `None` when `|c − w| < 1e-9`.
fn pgr(w: f64, c: f64, s: f64) -> Option<f64> {
    if (c - w).abs() < 1e-9 || !(w.is_finite() && c.is_finite() && s.is_finite()) {
        None
    } else {
        Some((s - w) / (c - w))
    }
}

fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// The record of the stage whose file name starts with `prefix` in run folder `dir`.
fn stage_record(dir: &Path, prefix: &str) -> Value {
    let file = std::fs::read_dir(dir.join("stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no stage record {prefix}* in {}", dir.display()));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// Recomputes every metric of `results.json` from `predictions.jsonl` with the plain
/// statistics of `w2sd::stats` and checks each number is *exactly* equal.
fn assert_recomputes(dir: &Path) -> Results {
    let results = Results::load(&dir.join("results.json")).unwrap();
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let rows = read_predictions(&dir.join("predictions.jsonl")).unwrap();
    // Raw JSON lines carry the required fields.
    let first: Value =
        serde_json::from_str(std::fs::read_to_string(dir.join("predictions.jsonl")).unwrap().lines().next().unwrap())
            .unwrap();
    for k in ["run", "id", "label", "weak_prob", "student_prob"] {
        assert!(first.get(k).is_some(), "predictions lack {k}");
    }
    let mut by_run: HashMap<&str, Vec<&PredictionRow>> = HashMap::new();
    for r in &rows {
        by_run.entry(r.run.as_str()).or_default().push(r);
    }
    assert_eq!(by_run.len(), results.runs.len(), "every run has rows and every row's run is in runs[]");
    let (res, bins) = (results.ci.resamples, results.ece_bins);
    let level_seed = (results.ci.level, results.ci.seed);
    for (run, jrun) in results.runs.iter().zip(raw["runs"].as_array().unwrap()) {
        for k in ["id", "weak", "strong", "loss", "acc_weak", "acc_ceiling", "acc_w2s", "pgr", "auroc_w2s", "pgr_auroc"]
        {
            assert!(jrun.get(k).is_some(), "runs[] entry lacks {k}");
        }
        let rs = &by_run[run.info.id.as_str()];
        let y: Vec<bool> = rs.iter().map(|r| r.label == 1).collect();
        let w: Vec<f64> = rs.iter().map(|r| r.weak_prob).collect();
        let c: Vec<f64> = rs.iter().map(|r| r.ceiling_prob).collect();
        let s: Vec<f64> = rs.iter().map(|r| r.student_prob).collect();
        let sup: Vec<f64> = rs.iter().map(|r| r.supervisor_prob).collect();
        let m = &run.metrics;
        assert_eq!(m.n, rs.len());
        let (aw, ac, asd) = (stats::accuracy(&w, &y), stats::accuracy(&c, &y), stats::accuracy(&s, &y));
        assert_eq!(num(&jrun["acc_weak"]), Some(aw), "{}", run.info.id);
        assert_eq!(num(&jrun["acc_ceiling"]), Some(ac));
        assert_eq!(num(&jrun["acc_w2s"]), Some(asd));
        let (uw, uc, us) = (stats::auroc(&w, &y), stats::auroc(&c, &y), stats::auroc(&s, &y));
        assert_eq!(num(&jrun["auroc_weak"]), fin(uw));
        assert_eq!(num(&jrun["auroc_ceiling"]), fin(uc));
        assert_eq!(num(&jrun["auroc_w2s"]), fin(us));
        assert_eq!(num(&jrun["pgr_raw"]), pgr(aw, ac, asd));
        assert_eq!(num(&jrun["pgr_auroc_raw"]), pgr(uw, uc, us));
        assert_eq!(num(&jrun["ece_weak"]), Some(stats::ece(&w, &y, bins)));
        assert_eq!(num(&jrun["ece_ceiling"]), Some(stats::ece(&c, &y, bins)));
        assert_eq!(num(&jrun["ece_w2s"]), Some(stats::ece(&s, &y, bins)));
        let agree: Vec<bool> = s.iter().zip(&sup).map(|(a, b)| (*a >= 0.5) == (*b >= 0.5)).collect();
        assert_eq!(num(&jrun["agreement"]), Some(stats::fraction(&agree)));
        assert_eq!(num(&jrun["acc_supervisor"]), Some(stats::accuracy(&sup, &y)), "{}", run.info.id);
        // Cluster bootstrap: resample the rows' groups (order of first appearance) with the
        // recorded seed; the candidates of one question move together.
        let groups: Vec<&str> = rs.iter().map(|r| r.group.as_deref().unwrap_or(&r.id)).collect();
        let clusters = metrics::cluster_ids(&groups);
        assert_eq!(num(&jrun["groups"]), Some(*clusters.iter().max().unwrap() as f64 + 1.0));
        // A several-seed file: each run's CIs use its own seed.
        let resamples = metrics::cluster_resamples(&clusters, res, run.info.seed.unwrap_or(level_seed.1));
        let pick = |v: &[f64], idx: &[usize]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let ypick = |idx: &[usize]| idx.iter().map(|&i| y[i]).collect::<Vec<bool>>();
        let ci = |f: &dyn Fn(&[usize]) -> f64| {
            metrics::percentile_ci(&resamples, level_seed.0, f).map(|v| Value::from(v.to_vec())).unwrap_or(Value::Null)
        };
        let acc_at = |v: &[f64], idx: &[usize]| stats::accuracy(&pick(v, idx), &ypick(idx));
        let auc_at = |v: &[f64], idx: &[usize]| stats::auroc(&pick(v, idx), &ypick(idx));
        let positive = |a: f64, b: f64, c: f64| if b - a > 0.0 { pgr(a, b, c).unwrap_or(f64::NAN) } else { f64::NAN };
        let gap = ci(&|i| acc_at(&c, i) - acc_at(&w, i));
        let gap_auc = ci(&|i| auc_at(&c, i) - auc_at(&w, i));
        // PGR only where the gap's interval lies above 0
        let above = |g: &Value| g.as_array().is_some_and(|a| a[0].as_f64().unwrap() > 0.0);
        let want_pgr = if above(&gap) { pgr(aw, ac, asd) } else { None };
        let want_pgr_auc = if above(&gap_auc) { pgr(uw, uc, us) } else { None };
        assert_eq!(num(&jrun["pgr"]), want_pgr, "{}", run.info.id);
        assert_eq!(num(&jrun["pgr_auroc"]), want_pgr_auc, "{}", run.info.id);
        let want = [
            ("acc_weak", ci(&|i| acc_at(&w, i))),
            ("acc_ceiling", ci(&|i| acc_at(&c, i))),
            ("acc_w2s", ci(&|i| acc_at(&s, i))),
            ("auroc_w2s", ci(&|i| auc_at(&s, i))),
            ("gap", gap.clone()),
            ("gap_auroc", gap_auc.clone()),
            ("acc_supervisor", ci(&|i| acc_at(&sup, i))),
            ("supervisor_gain", ci(&|i| acc_at(&sup, i) - acc_at(&w, i))),
            (
                "pgr",
                if want_pgr.is_some() {
                    ci(&|i| positive(acc_at(&w, i), acc_at(&c, i), acc_at(&s, i)))
                } else {
                    Value::Null
                },
            ),
            (
                "pgr_auroc",
                if want_pgr_auc.is_some() {
                    ci(&|i| positive(auc_at(&w, i), auc_at(&c, i), auc_at(&s, i)))
                } else {
                    Value::Null
                },
            ),
        ];
        for (k, v) in want {
            assert_eq!(jrun["ci"][k], v, "{} ci.{k}", run.info.id);
        }
    }
    for (step, jstep) in results.bootstrap.iter().zip(raw["bootstrap"].as_array().unwrap()) {
        for k in ["step", "model", "acc", "pgr"] {
            assert!(jstep.get(k).is_some(), "bootstrap[] entry lacks {k}");
        }
        let run = results.runs.iter().find(|r| r.info.id == step.run).expect("bootstrap step names a run");
        assert_eq!(step.acc, run.metrics.acc_w2s);
        assert_eq!(step.pgr, run.metrics.pgr);
        assert_eq!(step.model, run.info.strong);
    }
    // Aggregates across seeds recompute from the (already checked) per-seed numbers:
    // mean, median, sample sd and the t interval mean ± t·sd/√k.
    if !results.seeds.is_empty() {
        assert!(results.runs.iter().all(|r| r.info.seed.is_some() && r.info.id.starts_with('s')));
        let level = results.ci.level;
        let summary = |xs: &[Option<f64>]| -> (usize, Option<f64>, Option<f64>, Option<[f64; 2]>) {
            let mut v: Vec<f64> = xs.iter().flatten().copied().collect();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let k = v.len();
            if k == 0 {
                return (0, None, None, None);
            }
            let mean = v.iter().sum::<f64>() / k as f64;
            let median = stats::quantile_sorted(&v, 0.5);
            let ci = (k >= 2).then(|| {
                let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0)).sqrt();
                let h = metrics::student_t_quantile((1.0 + level) / 2.0, k as f64 - 1.0) * sd / (k as f64).sqrt();
                [mean - h, mean + h]
            });
            (k, Some(mean), Some(median), ci)
        };
        let check = |name: &str, got: &metrics::SeedSummary, want: Vec<Option<f64>>| {
            assert_eq!(got.values, want, "{name}");
            let (k, mean, median, ci) = summary(&want);
            assert_eq!((got.k, got.mean, got.median, got.ci), (k, mean, median, ci), "{name}");
        };
        let mut ids: Vec<&str> = results.runs.iter().map(|r| w2sd::w2s::results::base_id(&r.info.id)).collect();
        ids.dedup();
        let mut seen = std::collections::HashSet::new();
        ids.retain(|i| seen.insert(*i));
        assert_eq!(results.aggregate.len(), ids.len());
        let of = |id: &str, seed: u64| {
            results.runs.iter().find(|r| r.info.seed == Some(seed) && w2sd::w2s::results::base_id(&r.info.id) == id)
        };
        for a in &results.aggregate {
            let col = |f: &dyn Fn(&w2sd::w2s::results::RunResult) -> Option<f64>| -> Vec<Option<f64>> {
                results.seeds.iter().map(|&s| of(&a.id, s).and_then(f)).collect()
            };
            check(&format!("{} acc_weak", a.id), &a.acc_weak, col(&|r| Some(r.metrics.acc_weak)));
            check(&format!("{} acc_ceiling", a.id), &a.acc_ceiling, col(&|r| Some(r.metrics.acc_ceiling)));
            check(&format!("{} acc_w2s", a.id), &a.acc_w2s, col(&|r| Some(r.metrics.acc_w2s)));
            check(&format!("{} pgr", a.id), &a.pgr, col(&|r| r.metrics.pgr));
            check(&format!("{} pgr_raw", a.id), &a.pgr_raw, col(&|r| r.metrics.pgr_raw));
        }
        for p in &results.paired {
            let get = |loss: &str, s: u64, f: &dyn Fn(&w2sd::w2s::results::RunResult) -> Option<f64>| {
                let id = results
                    .aggregate
                    .iter()
                    .find(|a| a.kind == RunKind::Direct && a.strong == p.strong && a.loss == loss)
                    .unwrap()
                    .id
                    .clone();
                of(&id, s).and_then(f)
            };
            let d = |f: &dyn Fn(&w2sd::w2s::results::RunResult) -> Option<f64>| -> Vec<Option<f64>> {
                results.seeds.iter().map(|&s| Some(get(&p.loss, s, f)? - get(&p.baseline, s, f)?)).collect()
            };
            check("paired pgr", &p.pgr, d(&|r| r.metrics.pgr));
            check("paired acc", &p.acc_w2s, d(&|r| Some(r.metrics.acc_w2s)));
        }
    }
    results
}

#[test]
fn train_writes_results_that_recompute_exactly_and_resumes() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("run");
    let out_s = out.to_str().unwrap();
    let args = [
        "train",
        "--task",
        "builtin:preference",
        "--n",
        "300",
        "--ladder",
        "bow:64,bow:256,bow:1024,bow:4096",
        "--loss",
        "xent,logconf",
        "--seed",
        "3",
        "--out",
        out_s,
        "--json",
    ];
    let j = w2sd_json(&args, &[]);
    assert_eq!(j["resumed"].as_array().unwrap().len(), 0);
    assert!(j["ran"].as_array().unwrap().iter().any(|s| s == "results"));
    let r = assert_recomputes(&out);
    // weak, ceiling and student accuracies and PGR for xent and for logconf
    for loss in ["xent", "logconf"] {
        let run = r
            .runs
            .iter()
            .find(|x| x.info.kind == RunKind::Direct && x.info.loss == loss && x.info.strong == "bow:4096")
            .unwrap();
        for a in [run.metrics.acc_weak, run.metrics.acc_ceiling, run.metrics.acc_w2s] {
            assert!((0.0..=1.0).contains(&a));
        }
        // PGR is a number, or null with a warning naming the run
        assert!(run.metrics.pgr.is_some() || r.warnings.iter().any(|w| w.contains(&run.info.id)), "{:?}", r.warnings);
        assert_eq!(run.info.weak, "bow:64");
    }
    // a 3-step bootstrap over the 4-model ladder
    assert_eq!(r.bootstrap.iter().map(|s| s.step).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        r.bootstrap.iter().map(|s| s.model.as_str()).collect::<Vec<_>>(),
        vec!["bow:256", "bow:1024", "bow:4096"]
    );
    assert_eq!(r.ladder, vec!["bow:64", "bow:256", "bow:1024", "bow:4096"]);
    // Same command again: every stage is found done on disk, nothing recomputed, same files.
    let before = std::fs::read(out.join("results.json")).unwrap();
    let j2 = w2sd_json(&args, &[]);
    assert_eq!(j2["ran"].as_array().unwrap().len(), 0, "{j2}");
    assert_eq!(j2["resumed"].as_array().unwrap().len(), j["ran"].as_array().unwrap().len());
    assert_eq!(std::fs::read(out.join("results.json")).unwrap(), before);
    // One stage at a time: re-running only `weak` recomputes just that stage, identically.
    let mut one = args.to_vec();
    one.extend(["--stage", "weak", "--force"]);
    let j3 = w2sd_json(&one, &[]);
    assert_eq!(j3["ran"], serde_json::json!(["weak"]));
    // A changed setting reruns what it affects only: the heads, not the data or features.
    let mut changed = args.to_vec();
    changed.extend(["--epochs", "7"]);
    let j4 = w2sd_json(&changed, &[]);
    let resumed: Vec<&str> = j4["resumed"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(resumed.contains(&"data") && resumed.contains(&"features:bow:4096"), "{resumed:?}");
    assert!(!resumed.contains(&"weak") && !resumed.contains(&"results"), "{resumed:?}");
    assert_recomputes(&out);

    // Figures like the paper's, from the results.
    for ext in ["svg", "png"] {
        let fig = d.path().join(format!("fig.{ext}"));
        let p = w2sd_json(
            &["plot", out.join("results.json").to_str().unwrap(), "--out", fig.to_str().unwrap(), "--json"],
            &[],
        );
        assert_eq!(p["bootstrap_steps"], 3);
        let bytes = std::fs::read(&fig).unwrap();
        assert!(bytes.len() > 10_000, "{ext} is {} bytes", bytes.len());
        if ext == "svg" {
            let svg = String::from_utf8(bytes).unwrap();
            assert!(svg.contains("PGR vs strong model") && svg.contains("bow:4096"));
        } else {
            assert_eq!(&bytes[1..4], b"PNG");
        }
    }
}

/// A real dataset from ../shared/data through the same command: SST-2 (TSV, trailing
/// spaces) from the bag of words to MiniLM. The second run, in a fresh folder, takes
/// MiniLM's features from the disk cache.
#[test]
fn real_dataset_sst2_bow_to_minilm() {
    common::model_path("minilm-l6");
    let sst2 = common::shared_dir().join("data/sst2/dev.tsv");
    let d = tempfile::tempdir().unwrap();
    let run = |out: &str| {
        let o = d.path().join(out);
        let j = w2sd_json(
            &[
                "train",
                "--task",
                sst2.to_str().unwrap(),
                "--n",
                "200",
                "--ladder",
                "bow,minilm-l6",
                "--loss",
                "xent,logconf",
                "--out",
                o.to_str().unwrap(),
                "--json",
            ],
            &[],
        );
        (o, j)
    };
    let (o1, j1) = run("a");
    let r = assert_recomputes(&o1);
    assert_eq!(r.runs.len(), 2);
    assert!(r.bootstrap.is_empty(), "two models: no bootstrap steps");
    let minilm = j1["features"].as_array().unwrap().iter().find(|f| f["model"] == "minilm-l6").unwrap().clone();
    assert_eq!(minilm["n"], 200);
    assert_eq!(minilm["dim"], 384);
    assert!(minilm["examples_per_s"].as_f64().unwrap() > 0.0);
    // MiniLM on SST-2 beats chance as a ceiling
    assert!(r.runs[0].metrics.acc_ceiling > 0.6, "{}", r.runs[0].metrics.acc_ceiling);
    // Texts were trimmed (SST-2 ends each sentence with a space).
    let ex = std::fs::read_to_string(o1.join("examples.jsonl")).unwrap();
    let first: Value = serde_json::from_str(ex.lines().next().unwrap()).unwrap();
    assert!(!first["text"].as_str().unwrap().ends_with(' '));
    let (_, j2) = run("b");
    let minilm2 = j2["features"].as_array().unwrap().iter().find(|f| f["model"] == "minilm-l6").unwrap().clone();
    assert_eq!(minilm2["cached"], true, "second run must come from the feature cache: {minilm2}");
    assert_eq!(minilm2["cache_file"], minilm["cache_file"]);
}

/// The step API the TUI drives: one stage per call, with events, then resumption from
/// disk in a new `Experiment`.
#[test]
fn step_api_reports_events_and_resumes() {
    let d = tempfile::tempdir().unwrap();
    let mut cfg = ExperimentConfig::for_task("builtin:chess");
    cfg.task.n = Some(80);
    cfg.ladder = vec!["bow:128".into(), "bow:512".into(), "bow:2048".into()];
    cfg.losses = vec![w2sd::w2s::loss::LossKind::Logconf];
    cfg.metrics.resamples = 50;
    let mut exp = Experiment::new(cfg.clone(), d.path()).unwrap();
    let plan: Vec<String> = exp.plan().iter().map(|s| s.to_string()).collect();
    let mut events = Vec::new();
    let mut done = Vec::new();
    while let Some(s) = exp.step(&mut |e| events.push(e)).unwrap() {
        done.push(s.to_string());
    }
    assert_eq!(done, plan, "step runs the plan in order, one stage per call");
    let started = events.iter().filter(|e| matches!(e, Event::StageStarted { .. })).count();
    assert_eq!(started, plan.len());
    let epochs: Vec<&Event> =
        events.iter().filter(|e| matches!(e, Event::Epoch { stage, .. } if stage == "weak")).collect();
    assert!(!epochs.is_empty());
    if let Event::Epoch { stats, .. } = epochs[0] {
        assert_eq!(stats.epoch, 1);
        assert!(stats.train_loss.is_finite() && (0.0..=1.0).contains(&stats.val_acc));
    }
    let weak_done = events.iter().find_map(|e| match e {
        Event::StageDone { stage, summary, .. } if stage == "weak" => Some(summary.clone()),
        _ => None,
    });
    assert!(weak_done.unwrap().test.is_some(), "a head stage reports its test metrics");
    // Bootstrap step 2 of 2 also reports training curves (it trains its own student).
    assert!(events.iter().any(|e| matches!(e, Event::Epoch { stage, .. } if stage == "bootstrap:2")));
    // A fresh Experiment on the same folder (once the first, the folder's writer, is gone)
    // finds everything done.
    drop(exp);
    let mut again = Experiment::new(cfg, d.path()).unwrap();
    assert_eq!(again.next_pending(), None);
    assert!(again.is_done(&StageId::Results));
    let mut resumed = 0;
    let r = again
        .run_all(&mut |e| {
            if matches!(e, Event::StageDone { resumed: true, .. }) {
                resumed += 1
            }
        })
        .unwrap();
    assert_eq!(resumed, plan.len());
    assert_eq!(r.bootstrap.len(), 2);
    assert_recomputes(d.path());
    // Every head chose its L2 penalty by cross-validation over the whole default grid
    // (on its own training rows), and kept the best candidate.
    let grid = w2sd::w2s::head::DEFAULT_L2_GRID;
    for stage in [StageId::Weak, StageId::Ceiling { model: "bow:2048".into() }] {
        let rec = again.record(&stage).expect("a finished head stage");
        let w2sd::w2s::pipeline::StageOutput::Head { head } = &rec.output else { panic!("{stage} has no head") };
        assert_eq!(head.cv.iter().map(|c| c.l2).collect::<Vec<_>>(), grid.to_vec(), "{stage}");
        assert!(head.cv.iter().any(|c| c.score.is_finite()), "{stage}: {:?}", head.cv);
        assert_eq!(head.l2, w2sd::w2s::head::best_l2(&head.cv, w2sd::w2s::head::CvScore::LogLoss), "{stage}");
    }
}

#[test]
fn labelled_jsonl_and_hf_offline_through_the_cli() {
    let d = tempfile::tempdir().unwrap();
    // A classification JSONL with its own field names.
    let data = d.path().join("reviews.jsonl");
    let mut body = String::new();
    for i in 0..120 {
        let (w, y) = if i % 2 == 0 { ("wonderful", "pos") } else { ("dreadful", "neg") };
        body.push_str(&format!("{{\"review\": \"item {i} was {w}\", \"verdict\": \"{y}\"}}\n"));
    }
    std::fs::write(&data, body).unwrap();
    let spec = format!("{}?text=review&label=verdict", data.display());
    let out = d.path().join("out");
    let j = w2sd_json(
        &["train", "--task", &spec, "--ladder", "bow:16,bow:256", "--out", out.to_str().unwrap(), "--json"],
        &[],
    );
    assert_eq!(j["runs"].as_array().unwrap().len(), 2);
    let r = assert_recomputes(&out);
    assert!(r.runs[0].metrics.acc_ceiling > 0.9);
    // hf: datasets go through hf-hub, cache first; offline without a cached copy is a clear error.
    let hf_home = d.path().join("hf");
    let o = Command::new(common::bin())
        .args([
            "train",
            "--task",
            "hf:someone/absent:train.jsonl",
            "--ladder",
            "bow:16,bow:32",
            "--out",
            d.path().join("x").to_str().unwrap(),
        ])
        .env("HF_HOME", &hf_home)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("HF_HUB_OFFLINE") && err.contains("someone/absent"), "{err}");
}

/// Several seeds and a dataset's own test file (with the `?text=…&label=…` syntax): every
/// seed runs the whole pipeline, results.json holds every seed's runs and their aggregate,
/// every number (aggregates included) recomputes from predictions.jsonl, the test file is
/// the test split, and no test text occurs in training.
#[test]
fn seeds_and_a_test_file_recompute_from_predictions() {
    let d = tempfile::tempdir().unwrap();
    let write = |name: &str, range: std::ops::Range<usize>| {
        let mut body = String::new();
        for i in range {
            let (w, y) = if i % 2 == 0 { ("wonderful", "pos") } else { ("dreadful", "neg") };
            let noise = ["plot", "cast", "score", "pace"][i % 4];
            body.push_str(&format!("{{\"review\": \"the {noise} of film {i} was {w}\", \"verdict\": \"{y}\"}}\n"));
        }
        // a copy of a test text in the training file must be dropped, not trained on
        if name == "train.jsonl" {
            body.push_str("{\"review\": \"The plot of film 300 was WONDERFUL!\", \"verdict\": \"pos\"}\n");
        }
        let p = d.path().join(name);
        std::fs::write(&p, body).unwrap();
        format!("{}?text=review&label=verdict", p.display())
    };
    let train = write("train.jsonl", 0..160);
    let test = write("test.jsonl", 300..360);
    let out = d.path().join("out");
    let j = w2sd_json(
        &[
            "train",
            "--task",
            &train,
            "--test",
            &test,
            "--ladder",
            "bow:8,bow:512",
            "--loss",
            "xent,logconf",
            "--seeds",
            "0,1,2",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    assert_eq!(j["seeds"], serde_json::json!([0, 1, 2]));
    let r = assert_recomputes(&out);
    assert_eq!(r.seeds, vec![0, 1, 2]);
    assert_eq!(r.runs.len(), 6, "2 losses × 3 seeds");
    assert_eq!(r.aggregate.len(), 2);
    assert_eq!(r.paired.len(), 1);
    assert!(r.runs.iter().all(|x| x.metrics.n == 60), "the test file is the test split");
    for seed in [0, 1, 2] {
        let dir = out.join(format!("seed-{seed}"));
        assert_recomputes(&dir);
        let rec: Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::fs::read_dir(dir.join("stages"))
                    .unwrap()
                    .flatten()
                    .find(|e| e.file_name().to_string_lossy().starts_with("data-"))
                    .unwrap()
                    .path(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(rec["output"]["contamination"], 0);
        assert_eq!(rec["output"]["splits"]["test"].as_array().unwrap().len(), 60);
        assert!(rec["summary"]["text"]
            .as_str()
            .unwrap()
            .contains("1 training examples also in the test set were dropped"));
    }
    // the plot shows the spread over seeds
    let fig = d.path().join("fig.svg");
    w2sd_json(&["plot", out.join("results.json").to_str().unwrap(), "--out", fig.to_str().unwrap(), "--json"], &[]);
    assert!(std::fs::read_to_string(&fig).unwrap().contains("mean of 3 seeds"));
}

/// `w2sd bench --features` measures the batched path against one text per forward in the
/// same run, on the real MiniLM, and its figures are self-consistent.
#[test]
fn feature_bench_reports_batched_and_baseline_throughput() {
    let v = w2sd_json(
        &[
            "bench",
            "--features",
            "--ladder",
            "bow,minilm-l6",
            "--task",
            "builtin:sentiment",
            "--n",
            "24",
            "--baseline-n",
            "6",
            "--json",
        ],
        &[],
    );
    assert_eq!(v["n"], 24);
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["model"], "bow");
    assert!(rows[0]["speedup"].is_null(), "bow has no one-by-one baseline");
    let m = &rows[1];
    assert_eq!(m["model"], "minilm-l6");
    assert_eq!(m["dim"], 384);
    assert_eq!(m["n"], 24);
    assert_eq!(m["baseline_n"], 6);
    let eps = m["examples_per_s"].as_f64().unwrap();
    let base = m["baseline_examples_per_s"].as_f64().unwrap();
    let tokens = m["tokens"].as_f64().unwrap();
    assert!(eps > 0.0 && base > 0.0 && tokens >= 24.0, "{m}");
    assert!((m["speedup"].as_f64().unwrap() - eps / base).abs() < 1e-9 * eps / base);
    assert!((m["tokens_per_s"].as_f64().unwrap() - tokens * eps / 24.0).abs() < 1e-6 * tokens * eps);
    let total: f64 = rows.iter().map(|r| r["seconds"].as_f64().unwrap()).sum();
    assert!((v["total_seconds"].as_f64().unwrap() - total).abs() < 1e-9);
}

/// `w2sd bench --features --model M` measures that one model (what the side-by-side script
/// sets against llama.cpp's prefill); `--model` and `--ladder` together are refused.
#[test]
fn feature_bench_takes_one_model() {
    let v = w2sd_json(
        &["bench", "--features", "--model", "bow", "--task", "builtin:sentiment", "--n", "12", "--json"],
        &[],
    );
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["model"], "bow");
    let out = Command::new(common::bin())
        .args(["bench", "--features", "--model", "bow", "--ladder", "bow,minilm-l6", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--ladder") && err.contains("--model"), "{err}");
}

/// Debate context (issue 13) end to end on a real debater: gemma-3-270m argues for each
/// label of every example, a second bag-of-words supervisor reads text + arguments, students
/// learn from its labels on the text alone, and every number of the `+debate` runs
/// recomputes from predictions.jsonl like the others. A second run finds every debate in
/// the cache and every stage done.
#[test]
fn debate_context_supervises_students_and_recomputes() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("run");
    let out_s = out.to_str().unwrap();
    let args = [
        "train",
        "--task",
        "builtin:sentiment",
        "--n",
        "40",
        "--ladder",
        "bow:256,bow:4096",
        "--loss",
        "xent,logconf",
        "--debate-context",
        "gemma-3-270m",
        "--debate-max-tokens",
        "24",
        "--out",
        out_s,
        "--json",
    ];
    let j = w2sd_json(&args, &[("HF_HUB_OFFLINE", "1")]);
    let ran: Vec<&str> = j["ran"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for stage in
        ["debate:gemma-3-270m", "weak+debate", "student+debate:bow:4096:xent", "student+debate:bow:4096:logconf"]
    {
        assert!(ran.contains(&stage), "{stage} did not run: {ran:?}");
    }
    let r = assert_recomputes(&out);
    let rows = read_predictions(&out.join("predictions.jsonl")).unwrap();
    for loss in ["xent", "logconf"] {
        let plain = r.runs.iter().find(|x| x.info.id == format!("bow:256>bow:4096:{loss}")).unwrap();
        let debate = r.runs.iter().find(|x| x.info.id == format!("bow:256+debate>bow:4096:{loss}")).unwrap();
        assert_eq!(debate.info.debate.as_deref(), Some("gemma-3-270m"));
        assert_eq!(plain.info.debate, None);
        // The same baseline (the plain weak supervisor) and ceiling; another supervisor.
        assert_eq!(debate.metrics.acc_weak, plain.metrics.acc_weak);
        assert_eq!(debate.metrics.acc_ceiling, plain.metrics.acc_ceiling);
        assert_eq!(plain.metrics.acc_supervisor, plain.metrics.acc_weak);
        let sup: Vec<f64> = rows.iter().filter(|x| x.run == debate.info.id).map(|x| x.supervisor_prob).collect();
        let weak: Vec<f64> = rows.iter().filter(|x| x.run == debate.info.id).map(|x| x.weak_prob).collect();
        assert_ne!(sup, weak, "the debate-assisted supervisor's labels are its own");
    }
    // Every example has one argument per claim, written by the model, named by its label.
    let args_text = std::fs::read_to_string(out.join("debate-context.jsonl")).unwrap();
    let debates: Vec<Value> = args_text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(debates.len() >= 30, "{} examples debated", debates.len());
    for dbt in &debates {
        let a = dbt["arguments"].as_array().unwrap();
        assert_eq!(a.iter().map(|x| x["label"].as_u64().unwrap()).collect::<Vec<_>>(), vec![1, 0]);
        assert!(a[0]["text"].as_str().unwrap().starts_with("I argue that \"positive\""), "{dbt}");
        assert!(a[1]["text"].as_str().unwrap().starts_with("I argue that \"negative\""), "{dbt}");
    }
    // Again: nothing recomputed, the debates come from the cache.
    let j2 = w2sd_json(&args, &[("HF_HUB_OFFLINE", "1")]);
    assert_eq!(j2["ran"].as_array().unwrap().len(), 0, "{j2}");
    // The plot draws the students of the debate-assisted supervisor as their own series.
    let fig = d.path().join("pgr.svg");
    w2sd_json(&["plot", out.join("results.json").to_str().unwrap(), "--out", fig.to_str().unwrap(), "--json"], &[]);
    let svg = std::fs::read_to_string(&fig).unwrap();
    assert!(svg.contains("xent + debate") && svg.contains("logconf + debate"), "the legend names the debate series");
    // The other two supervisors on the same (cached) debates: an ensemble of five heads on
    // bootstrap samples, and the weak language model reading the arguments zero-shot (with its
    // reading without them recorded beside).
    for (kind, ladder) in [("ensemble", "bow:256,bow:4096"), ("judge", "gemma-3-270m,bow:4096")] {
        let o = d.path().join(kind);
        let mut a: Vec<&str> = args.to_vec();
        let o_s = o.to_str().unwrap().to_string();
        let k = a.iter().position(|x| *x == "--out").unwrap();
        a[k + 1] = &o_s;
        let l = a.iter().position(|x| *x == "--ladder").unwrap();
        a[l + 1] = ladder;
        let m = a.iter().position(|x| *x == "--loss").unwrap();
        a[m + 1] = "xent";
        a.extend(["--debate-supervisor", kind]);
        let j = w2sd_json(&a, &[("HF_HUB_OFFLINE", "1")]);
        let ran: Vec<&str> = j["ran"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        assert!(ran.contains(&"weak+debate"), "{ran:?}");
        let r = assert_recomputes(&o);
        let weak = ladder.split(',').next().unwrap();
        assert!(r.runs.iter().any(|x| x.info.id == format!("{weak}+debate>bow:4096:xent")), "{kind}");
        let rec = stage_record(&o, "weak_debate-");
        assert_eq!(rec["output"]["supervisor"], kind);
        match kind {
            "ensemble" => assert_eq!(rec["output"]["members"], 5),
            _ => {
                assert_eq!(rec["output"]["members"], 0);
                let alone = rec["output"]["alone"]["test"].as_array().unwrap();
                let with = rec["output"]["head"]["probs"]["test"].as_array().unwrap();
                assert_eq!(alone.len(), with.len());
                assert!(alone.iter().chain(with).all(|p| (0.0..=1.0).contains(&p.as_f64().unwrap())));
                assert_ne!(alone, with, "the arguments change what the weak model answers");
            }
        }
    }
    // A bag of words cannot judge: the judge supervisor is refused before anything runs.
    let bad = Command::new(common::bin())
        .args(["train", "--task", "builtin:sentiment", "--ladder", "bow,bow:4096", "--debate-context", "gemma-3-270m"])
        .args(["--debate-supervisor", "judge", "--out", d.path().join("bad").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("language model") && err.lines().count() <= 2, "{err}");
    assert!(!d.path().join("bad").exists(), "nothing is written for a refused config");
}

/// People as weak supervisors (issue 13): a session judged through the human-judge API (a
/// person's verdicts on scripted debates; two debates left unjudged) trains gemma-3-270m
/// students with `--from-session`; the unjudged debates are counted, every number recomputes
/// from predictions.jsonl, and the weak labels are the verdicts, not the truth.
#[test]
fn human_verdicts_train_a_student_end_to_end() {
    use w2sd::debate::human::{human_judgement, HumanVerdict};
    use w2sd::debate::runner::{self, RunPlan};
    use w2sd::debate::{Debate, ModelDebater};
    use w2sd::runtime::{scripted::ScriptedModel, share, CancelToken};
    use w2sd::session::{Assignment, DebaterProfile, JudgeSetting, Protocol, Settings, TurnOrder};

    let d = tempfile::tempdir().unwrap();
    let session_file = d.path().join("judged.json");
    let profile = |name: &str| DebaterProfile {
        name: name.into(),
        model: name.into(),
        sees_passage: true,
        max_tokens: 16,
        sampling: Default::default(),
        template: "debater".into(),
        block_copies: false,
    };
    let plan = RunPlan {
        settings: Settings {
            task: "builtin:capitals".into(),
            n: 12,
            seed: 5,
            protocol: Protocol::Debate,
            assignment: Assignment::Assigned,
            rounds: 1,
            turn_order: TurnOrder::Simultaneous,
            judge: JudgeSetting::Human,
            judge_sees_passage: false,
        },
        strong: profile("strong"),
        weak: profile("weak"),
        out: session_file.clone(),
        templates: w2sd::debate::prompts::Templates::builtin(),
        command: None,
    };
    let templates = w2sd::debate::prompts::Templates::builtin();
    let mut strong =
        ModelDebater::new(profile("strong"), share(ScriptedModel::new("strong", "It is so.")), templates.clone());
    let mut weak = ModelDebater::new(profile("weak"), share(ScriptedModel::new("weak", "It is not.")), templates);
    let mut sess = runner::run_session(&plan, &mut strong, &mut weak, None, &CancelToken::new(), &mut |_| {}).unwrap();
    // The person judges 10 of the 12 debates: 80% for the correct side on 8, 70% for the
    // wrong side on 2 (their mistakes); the last two stay unjudged.
    let n = sess.debates.len();
    assert_eq!(n, 12);
    let mut want: Vec<(String, f64)> = Vec::new();
    for i in 0..10 {
        let rec = sess.debates[i].clone();
        let right = i % 5 != 4;
        let p_correct = if right { 0.8 } else { 0.3 };
        let p_strong = if rec.strong_correct { p_correct } else { 1.0 - p_correct };
        let v = HumanVerdict {
            judge_name: "ada".into(),
            percent_strong: (p_strong * 100.0_f64).round() as u32,
            rationale: None,
            seconds: 3.0,
            blind: None,
        };
        let mut deb = Debate::from_record(&sess.settings, rec.clone());
        deb.record_judgement(human_judgement(&deb.record, &v).unwrap()).unwrap();
        sess.debates[i] = deb.record;
        runner::save(&session_file, &mut sess).unwrap();
        want.push((format!("{}/{}#{i}", rec.item.id, rec.item.answer), p_correct));
    }
    let out = d.path().join("run");
    let j = w2sd_json(
        &[
            "train",
            "--from-session",
            session_file.to_str().unwrap(),
            "--ladder",
            "gemma-3-270m",
            "--loss",
            "xent,logconf",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
        &[("HF_HUB_OFFLINE", "1")],
    );
    let ran: Vec<&str> = j["ran"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(!ran.iter().any(|s| s.starts_with("features:session")), "people have no features: {ran:?}");
    let r = assert_recomputes(&out);
    assert_eq!(r.runs.len(), 2);
    let data = stage_record(&out, "data-");
    let summary = data["summary"]["text"].as_str().unwrap();
    assert!(summary.contains("from 10 judged debates") && summary.contains("10 by people"), "{summary}");
    assert!(summary.contains("2 unjudged"), "{summary}");
    // The weak labels are the person's verdicts: p(correct candidate) as given.
    let examples: Vec<Value> = std::fs::read_to_string(out.join("examples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let verdicts = data["output"]["verdicts"].as_array().unwrap();
    assert_eq!(examples.len(), 20, "two candidates per judged debate");
    for (id, p) in &want {
        let k = examples.iter().position(|e| e["id"] == id.as_str()).unwrap_or_else(|| panic!("no {id}"));
        assert!((verdicts[k].as_f64().unwrap() - p).abs() < 1e-9, "{id}");
        assert_eq!(examples[k]["label"], true);
    }
    // The weak accuracy on the held-out items is the person's: 4 of 5 items right overall.
    for run in &r.runs {
        assert_eq!(run.info.weak, format!("session:{}", session_file.display()));
    }
}
