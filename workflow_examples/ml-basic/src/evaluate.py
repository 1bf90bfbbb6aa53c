"""Mean squared error of the model on the test set → metrics.json."""
import json

model = json.load(open("model/model.json"))
points = [tuple(map(float, r.split(","))) for r in open("data/prepared/test.csv").read().split()]
mse = sum((model["w"] * x + model["b"] - y) ** 2 for x, y in points) / len(points)
json.dump({"mse": round(mse, 6), "n_test": len(points)}, open("metrics.json", "w"), indent=2)
print(f"evaluate: mse={mse:.4f}")
