#!/usr/bin/env bash
# The command line from upload to an exported, re-imported model, run from the checkout's root against a running
# stack. docs/dashboard-and-cli.md shows this file as it is, and the test suite runs it.
set -euo pipefail
out=$(mktemp -d)
infra/platform login                                   # asks for the key (or takes PLATFORM_API_KEY, or stdin)
infra/platform whoami

# Two corpora: text, and pairs (as a .tsv says; --format overrides), the second followed until it is tokenized.
dataset=$(infra/platform datasets upload infra/demo/tinyshakespeare.txt --tokenizer char --json | jq -r .id)
pairs=$(infra/platform datasets upload infra/demo/dates.tsv --tokenizer char --wait --json \
  | jq -r 'select(.event == "upload") | .data.id')
infra/platform datasets show "$pairs"

# A run estimated, then started and followed to its end (exit 7 if it does not complete); a sweep of two.
infra/platform runs estimate docs/examples/spec.json --dataset "$dataset"
infra/platform runs create docs/examples/spec.json --dataset "$dataset" --wait
infra/platform runs ls --name shakespeare-char
sweep=$(infra/platform sweeps start docs/examples/sweep.json --dataset "$dataset" --json | jq -r .id)
infra/platform sweeps watch "$sweep" > /dev/null
infra/platform sweeps show "$sweep"                    # its runs, with the swept parameter, and the best so far
# Runs found by what they recorded (docs/tracking.md has the syntax), best first.
infra/platform runs search "attributes.name = 'shakespeare-char' and metrics.val_loss < 10" \
  --order-by "metrics.val_loss ASC"
infra/platform experiments ls

# The version the run registered: shown, promoted, evaluated again, generated from and explained.
infra/platform models show shakespeare-char
infra/platform models promote shakespeare-char 1 --alias production
infra/platform evaluate shakespeare-char@production --dataset "$dataset" --wait
echo "ROMEO:" | infra/platform generate shakespeare-char@production --max-tokens 40 --top-p 0.9 --seed 1
infra/platform generate shakespeare-char@production "JULIET:" -n 2 --stop $'\n\n' --max-tokens 40 --seed 2
infra/platform explain shakespeare-char@production "ROMEO:"

# Out and back in: the version as a Hugging Face model folder (GPT-2's config and names, the tokenizer, a model
# card), then imported as a model of its own from that folder's files.
infra/platform models export shakespeare-char 1 --format hf -o "$out/shakespeare-char.zip"
unzip -q -o "$out/shakespeare-char.zip" -d "$out/shakespeare-char"
head -n 12 "$out/shakespeare-char/README.md"
infra/platform models import shakespeare-imported --weights "$out/shakespeare-char/model.safetensors" \
  --tokenizer "$out/shakespeare-char/tokenizer.json" --config "$out/shakespeare-char/config.json"

# Cleaning up: each dataset with the runs and versions learned from it (the import stays), then the saved key.
infra/platform datasets delete "$dataset" --cascade
infra/platform datasets delete "$pairs"
infra/platform logout
