#!/usr/bin/env python3
"""Side-by-side speed of w2sd and llama.cpp on the same GGUF files, same machine, same run.

Usage: python3 scripts/bench_vs_llamacpp.py [--w2sd target/release/w2sd] [MODEL ...]
Needs `python3 -m pip install llama-cpp-python` (builds llama.cpp from source).
Both sides: 2 threads, a 512-token prompt (prefill), 128 greedy tokens (decode).
The two engines alternate, one measurement each per round, for --rounds rounds, so that a
slow spell of a shared machine hits both; each round gives a ratio w2sd / llama.cpp, and
the table reports the median ratio with the best figure of each side.
Set PYTHONPATH to pick a particular llama-cpp-python build.

With --features, each round also runs `w2sd bench --features` on the model alone (batched
feature extraction of --features-n examples of --features-task, no cache) and the table adds
its tokens/s and its ratio to llama.cpp's 512-token prefill measured in the same round.
"""
import argparse, json, os, subprocess, sys, time

DEFAULT = ["gemma-3-270m", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"]


def w2sd_json(binary, *args):
    return w2sd_json_rss(binary, *args)[0]


def w2sd_json_rss(binary, *args):
    """The command's JSON output and its peak resident memory in MB (ru_maxrss of the child)."""
    import tempfile
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stderr=err)
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode:
            err.seek(0)
            raise subprocess.CalledProcessError(p.returncode, [binary, *args], out, err.read())
    return json.loads(out), usage.ru_maxrss / 1024


def vm_rss_mb():
    """This process's resident memory now (VmRSS), in MB."""
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


class LlamaSide:
    """One llama.cpp model, loaded once; `run()` measures one prefill and one decode."""

    def __init__(self, path, threads):
        from llama_cpp import Llama
        self.llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=1024, n_batch=512, verbose=False)

    def run(self, prompt_ids, n_decode):
        llm = self.llm
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt_ids)
        t1 = time.perf_counter()
        for _ in range(n_decode):
            tok = llm.sample(temp=0.0)
            llm.eval([tok])
        t2 = time.perf_counter()
        return len(prompt_ids) / (t1 - t0), n_decode / (t2 - t1)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--w2sd", default="target/release/w2sd")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    ap.add_argument("--features", action="store_true", help="also batched feature extraction against llama.cpp's prefill")
    ap.add_argument("--features-task", default="builtin:preference")
    ap.add_argument("--features-n", type=int, default=400)
    ap.add_argument("models", nargs="*", default=DEFAULT)
    a = ap.parse_args()
    rows = []
    for name in a.models:
        listing = {r["name"]: r for r in w2sd_json(a.w2sd, "models", "list", "--json")}
        path = listing[name]["path"]
        if not path:
            subprocess.run([a.w2sd, "models", "pull", name], check=True)
            listing = {r["name"]: r for r in w2sd_json(a.w2sd, "models", "list", "--json")}
            path = listing[name]["path"]
        # the same 512-token prompt for llama.cpp: w2sd's benchmark prompt, tokenized by w2sd
        prompt = w2sd_json(a.w2sd, "bench", "--model", name, "--json", "--print-prompt-ids")["prompt_ids"]
        llama = LlamaSide(path, a.threads)
        ours, theirs, feats, rss = [], [], [], []
        for _ in range(a.rounds):
            r, mb = w2sd_json_rss(a.w2sd, "bench", "--model", name, "--json", "--repeat", "1")
            rss.append(mb)
            ours.append((r["prefill_tok_s"], r["decode_tok_s"]))
            theirs.append(llama.run(prompt, r["decode_tokens"]))
            if a.features:
                f = w2sd_json(a.w2sd, "bench", "--features", "--model", name, "--task", a.features_task,
                              "--n", str(a.features_n), "--baseline-n", "1", "--json")
                feats.append(f["rows"][0]["tokens_per_s"])
        llama_rss = vm_rss_mb()
        del llama
        rows.append({
            "model": name,
            "w2sd_prefill_tok_s": max(o[0] for o in ours),
            "llamacpp_prefill_tok_s": max(t[0] for t in theirs),
            "prefill_ratio": median([o[0] / t[0] for o, t in zip(ours, theirs)]),
            "w2sd_decode_tok_s": max(o[1] for o in ours),
            "llamacpp_decode_tok_s": max(t[1] for t in theirs),
            "decode_ratio": median([o[1] / t[1] for o, t in zip(ours, theirs)]),
            "rounds": [{"w2sd": o, "llamacpp": t} for o, t in zip(ours, theirs)],
            # peak RSS of the w2sd bench process (load, 512-token prefill, decode), and the
            # resident memory of the Python process holding llama.cpp's model after its rounds
            "w2sd_peak_rss_mb": max(rss),
            "llamacpp_process_rss_mb": llama_rss,
        })
        if feats:
            rows[-1].update({
                "w2sd_features_tok_s": max(feats),
                "features_ratio": median([f / t[0] for f, t in zip(feats, theirs)]),
                "features_rounds": feats,
                "features_task": a.features_task,
                "features_n": a.features_n,
            })
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    if a.json:
        print(json.dumps({"machine": cpu, "cores": os.cpu_count(), "threads": a.threads, "rows": rows}))
        return
    print(f"Machine: {cpu}, {os.cpu_count()} cores, {a.threads} threads each side, {a.rounds} alternating rounds.\n")
    print("| model | w2sd prefill tok/s | llama.cpp prefill tok/s | prefill ratio | w2sd decode tok/s | llama.cpp decode tok/s | decode ratio | w2sd peak RSS MB | llama.cpp process RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['w2sd_prefill_tok_s']:.0f} | {r['llamacpp_prefill_tok_s']:.0f} | {r['prefill_ratio']:.2f}× "
              f"| {r['w2sd_decode_tok_s']:.1f} | {r['llamacpp_decode_tok_s']:.1f} | {r['decode_ratio']:.2f}× "
              f"| {r['w2sd_peak_rss_mb']:.0f} | {r['llamacpp_process_rss_mb']:.0f} |")
        if "features_ratio" in r:
            print(f"|   features ({r['features_task']}, n {r['features_n']}) | {r['w2sd_features_tok_s']:.0f} | "
                  f"(prefill above) | {r['features_ratio']:.2f}× | | | | | |")
    print("\n(tok/s: best round; ratios: median over rounds of w2sd / llama.cpp measured back to back)")


if __name__ == "__main__":
    sys.exit(main())
