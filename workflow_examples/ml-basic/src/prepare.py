"""Split data/points.csv into train/test (params: prepare.split, prepare.seed)."""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from params_io import load  # noqa: E402

params = load()["prepare"]
rows = open("data/points.csv").read().splitlines()[1:]
random.Random(params["seed"]).shuffle(rows)
cut = int(len(rows) * params["split"])
os.makedirs("data/prepared", exist_ok=True)
open("data/prepared/test.csv", "w").write("\n".join(rows[:cut]) + "\n")
open("data/prepared/train.csv", "w").write("\n".join(rows[cut:]) + "\n")
print(f"prepare: {len(rows) - cut} train rows, {cut} test rows")
