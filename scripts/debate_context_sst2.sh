#!/usr/bin/env bash
# Weak supervision with and without debate context on SST-2 (issue 13; docs/train.md, "Debate
# context: first measurement"). The debater (qwen2.5-coder-0.5b-instruct) argues for "negative" and
# "positive" on every sampled sentence; a bag of words trained on the sentences + arguments is the
# debate-assisted weak supervisor; gemma-3-270m students learn from either supervisor on the
# sentences alone. 3 seeds share the sample and its (cached) arguments.
#   scripts/debate_context_sst2.sh [W2SD] [DATA] [OUT] [N] [STUDENT]
# STUDENT defaults to gemma-3-270m; the control of docs/train.md uses the debater's own model,
# qwen2.5-coder-0.5b-instruct (the folder then ends in -student-q05).
set -euo pipefail
W2SD=${1:-target/release/w2sd}
DATA=${2:-../shared/data}
OUT=${3:-runs/debate}
N=${4:-300}
STUDENT=${5:-gemma-3-270m}
NAME="sst2-n$N-q05"
[ "$STUDENT" = gemma-3-270m ] || NAME="$NAME-student-q05"
mkdir -p "$OUT"
python3 scripts/sst2_w2s_data.py "$DATA/sst2" runs/sst2 >&2
/usr/bin/time -f "sst2-n$N wall %e s" "$W2SD" train --task runs/sst2/train4000.tsv --n "$N" \
  --ladder "bow,$STUDENT" --loss xent,logconf --seeds 0,1,2 \
  --template 'Review: {text}\nSentiment:' --pool mean+last \
  --debate-context qwen2.5-coder-0.5b-instruct --debate-claims negative,positive \
  --debate-question 'What is the sentiment of this review?' --debate-max-tokens 48 \
  --out "$OUT/$NAME" --json > "$OUT/$NAME.json"
python3 scripts/w2s_table.py "$OUT/$NAME"
"$W2SD" plot "$OUT/$NAME/results.json" --out "$OUT/$NAME/pgr.svg"
