"""Translators: resolved DVC stages → rules of a workflow engine.

Installed as ``dvcexp_translators`` (see README, "Package layout").
"""
