#!/usr/bin/env python3
"""Copy rates of debate session files, strict and paraphrase-tolerant.

    python3 scripts/copy_audit.py SESSION.json [SESSION.json ...] [--items N]

For every turn that could see opponent turns (by the session's turn order), the share of its word
n-grams found in those turns; a turn above 0.5 counts as a copy. Three measures:

- exact5: word 5-grams, lower case, punctuation at word edges removed — the measure
  `w2sd sessions stats` reports (`debate::quality::copy_overlap`);
- stem4: word 4-grams of each word's first 5 letters, so that a changed ending or case
  ("addition" for "additional", "Market" for "market") still matches;
- stem4-own: stem4 without the n-grams that also occur in the item's passage, question
  or choices (quoting the passage is not copying the opponent).

Rates are over all turns of the debates read (the denominator `w2sd sessions stats` uses).
"""
import json
import re
import sys


def words(text, stem):
    out = []
    for w in text.split():
        w = re.sub(r"^[^0-9A-Za-z]+|[^0-9A-Za-z]+$", "", w).lower()
        if w:
            out.append(w[:stem] if stem else w)
    return out


def grams(w, n):
    return [tuple(w[i : i + n]) for i in range(len(w) - n + 1)]


def simultaneous(order, rnd):
    """Whether the turns of round `rnd` are written without seeing each other."""
    return order == "simultaneous" or (order == "simultaneous-first" and rnd == 1)


def audit(path, items):
    s = json.load(open(path))
    order = s["settings"].get("turn_order", "sequential")
    debates = s["debates"][:items] if items else s["debates"]
    res = {"file": path, "debates": len(debates), "turns": 0}
    for name, n, stem, own in [("exact5", 5, 0, False), ("stem4", 4, 5, False), ("stem4-own", 4, 5, True)]:
        turns = copies = 0
        for d in debates:
            item = d["item"]
            mine_item = set()
            if own:
                for x in [item["question"], item.get("passage") or ""] + item["choices"]:
                    mine_item |= set(grams(words(x, stem), n))
            for k, t in enumerate(d["turns"]):
                turns += 1
                seen = [
                    u["text"]
                    for u in d["turns"][:k]
                    if u["side"] != t["side"]
                    and not (u.get("flags") or {}).get("cancelled")
                    and (u["round"] < t["round"] or not simultaneous(order, t["round"]))
                ]
                g = grams(words(t["text"], stem), n)
                if not seen or not g:
                    continue
                theirs = {x for o in seen for x in grams(words(o, stem), n)} - mine_item
                copies += sum(x in theirs for x in g) / len(g) > 0.5
        res["turns"] = turns
        res[name] = {"copies": copies, "rate": copies / turns if turns else None}
    return res


def main():
    args = sys.argv[1:]
    items = None
    if "--items" in args:
        k = args.index("--items")
        items = int(args[k + 1])
        del args[k : k + 2]
    if not args:
        sys.exit(__doc__)
    for p in args:
        print(json.dumps(audit(p, items)))


if __name__ == "__main__":
    main()
