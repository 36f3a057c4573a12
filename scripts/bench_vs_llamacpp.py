#!/usr/bin/env python3
"""Side-by-side speed of w2sd and llama.cpp on the same GGUF files, same machine, same run.

Usage: python3 scripts/bench_vs_llamacpp.py [--w2sd target/release/w2sd] [MODEL ...]
Needs `python3 -m pip install llama-cpp-python` (builds llama.cpp from source).
Both sides: 2 threads, a 512-token prompt (prefill), 128 greedy tokens (decode),
best of --repeat runs. Prints a Markdown table with the ratios w2sd / llama.cpp.
"""
import argparse, json, os, subprocess, sys, time

DEFAULT = ["gemma-3-270m", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"]


def w2sd_json(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def llama_bench(path, prompt_ids, n_decode, repeat, threads):
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=1024, n_batch=512, verbose=False)
    best_p, best_d = 0.0, 0.0
    for _ in range(repeat):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt_ids)
        t1 = time.perf_counter()
        best_p = max(best_p, len(prompt_ids) / (t1 - t0))
        t2 = time.perf_counter()
        for _ in range(n_decode):
            tok = llm.sample(temp=0.0)
            llm.eval([tok])
        t3 = time.perf_counter()
        best_d = max(best_d, n_decode / (t3 - t2))
    return best_p, best_d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--w2sd", default="target/release/w2sd")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
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
        ours = w2sd_json(a.w2sd, "bench", "--model", name, "--json", "--repeat", str(a.repeat))
        # the same 512-token prompt for llama.cpp: w2sd's benchmark prompt, tokenized by w2sd
        prompt = w2sd_json(a.w2sd, "bench", "--model", name, "--json", "--print-prompt-ids")["prompt_ids"]
        lp, ld = llama_bench(path, prompt, ours["decode_tokens"], a.repeat, a.threads)
        rows.append((name, ours["prefill_tok_s"], lp, ours["decode_tok_s"], ld))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Machine: {cpu}, {os.cpu_count()} cores, {a.threads} threads each side.\n")
    print("| model | w2sd prefill tok/s | llama.cpp prefill tok/s | ratio | w2sd decode tok/s | llama.cpp decode tok/s | ratio |")
    print("|---|---|---|---|---|---|---|")
    for n, wp, lp, wd, ld in rows:
        print(f"| {n} | {wp:.0f} | {lp:.0f} | {wp/lp:.2f}× | {wd:.1f} | {ld:.1f} | {wd/ld:.2f}× |")


if __name__ == "__main__":
    sys.exit(main())
