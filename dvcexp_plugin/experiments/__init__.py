"""Experiments: names, run, queue, show, apply, branch and remove."""
