"""Fit y = w*x + b by gradient descent (params: train.lr, train.epochs)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from params_io import load  # noqa: E402

params = load()["train"]
points = [tuple(map(float, r.split(","))) for r in open("data/prepared/train.csv").read().split()]
w = b = 0.0
for _ in range(params["epochs"]):
    gw = sum(2 * (w * x + b - y) * x for x, y in points) / len(points)
    gb = sum(2 * (w * x + b - y) for x, y in points) / len(points)
    w, b = w - params["lr"] * gw, b - params["lr"] * gb
os.makedirs("model", exist_ok=True)
json.dump({"w": w, "b": b}, open("model/model.json", "w"))
print(f"train: w={w:.3f} b={b:.3f}")
