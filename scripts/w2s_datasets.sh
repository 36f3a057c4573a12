#!/usr/bin/env bash
# The five-dataset table of docs/train.md: bow -> gemma-3-270m, xent and logconf, seeds 0,1,2,
# heads with cross-validated L2 (the default). Usage (from the repository root, ../shared beside it):
#   scripts/w2s_datasets.sh [W2SD=target/release/w2sd] [DATA=../shared/data] [OUT=runs/datasets]
set -euo pipefail
W2SD=${1:-target/release/w2sd}
DATA=${2:-../shared/data}
OUT=${3:-runs/datasets}
mkdir -p "$OUT"
run() { # name, then train arguments
  local name=$1; shift
  echo "== $name: $*" >&2
  /usr/bin/time -f "$name wall %e s" "$W2SD" train "$@" --ladder bow,gemma-3-270m --loss xent,logconf \
    --seeds 0,1,2 --out "$OUT/$name" --json > "$OUT/$name.json"
}
python3 scripts/sst2_w2s_data.py "$DATA/sst2" runs/sst2 >&2
run sst2 --task runs/sst2/train4000.tsv --test runs/sst2/dev.tsv --template 'Review: {text}\nSentiment:' --pool mean+last
run imdb --task "$DATA/imdb/test.csv?text=text&label=label" --template 'Review: {text}\nSentiment:'
run amazon-electronics --task "$DATA/amazon_multidomain/electronics/test-labeled.tsv?text=sentence&label=label" \
  --template 'Review: {text}\nSentiment:'
run ethics --task "$DATA/ethics_commonsense/cm_test.csv?text=input&label=label" --n 2000
run sciq --task "$DATA/sciq/sciq_train.jsonl" --n 1500 --test "$DATA/sciq/sciq_test.jsonl"
run boolq --task "$DATA/boolq/val.jsonl" --n 1500
# The full ladder on SST-2 (PGR against strong model, like Burns et al.'s figure)
if [ "${FULL_LADDER:-1}" = 1 ]; then
  echo "== sst2-full-ladder" >&2
  /usr/bin/time -f "sst2-full-ladder wall %e s" "$W2SD" train --task runs/sst2/train4000.tsv --test runs/sst2/dev.tsv \
    --ladder bow,minilm-l6,gemma-3-270m,qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct \
    --loss xent,logconf --seeds 0,1,2 --template 'Review: {text}\nSentiment:' --pool mean+last \
    --out "$OUT/sst2-full-ladder" --json > "$OUT/sst2-full-ladder.json"
  "$W2SD" plot "$OUT/sst2-full-ladder/results.json" --out "$OUT/sst2-full-ladder/pgr.png"
fi
