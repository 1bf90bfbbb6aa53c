#!/usr/bin/env bash
# The README's first command: run a sweep of experiments on the bundled ml-basic
# example in a fresh git repository, then show the experiment table.
# Needs `dvcexp` on PATH; leaves the demo repository in $DEMO (default: a temp dir).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
DEMO="${DEMO:-$(mktemp -d -t dvcexp-demo-XXXXXX)}"
cp -r "$here/ml-basic/." "$DEMO/"
cd "$DEMO"
git init -q -b main
# a repo-local identity, only if git has none (experiments are git commits)
git config user.email >/dev/null || git config user.email "demo@dvcexp.invalid"
git config user.name >/dev/null || git config user.name "dvcexp demo"
git add -A && git commit -q -m "ml-basic baseline"
# a sweep: three queued experiments, run in one DAG with two job slots
dvcexp exp run --queue -n lr -S 'train.lr=0.05,0.1,0.2'
dvcexp exp run --run-all -j 2
COLUMNS="${COLUMNS:-120}" dvcexp exp show --no-pager
echo "demo repository: $DEMO"
