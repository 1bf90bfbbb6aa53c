"""Tiny params.yaml reader for the example (two-level mapping of scalars, no PyYAML needed)."""


def load(path="params.yaml"):
    data, section = {}, None
    for line in open(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.strip().partition(":")
        if not line.startswith(" "):
            section = data.setdefault(key, {})
            continue
        value = value.strip()
        try:
            section[key] = int(value)
        except ValueError:
            section[key] = float(value)
    return data
