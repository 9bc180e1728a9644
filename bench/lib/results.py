"""The results files: the JSON document and its Markdown rendering beside it."""
import json
import os
import re

from .render import render


def _write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def write_markdown(path, results):
    """Writes the rendering of results beside the results file path (X.json:
    X.md); returns it."""
    md = render(results)
    _write(re.sub(r"\.json$", "", path) + ".md", md)
    return md


def write_results(path, results):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _write(path, json.dumps(results, indent=2) + "\n")
    write_markdown(path, results)
    return path


def render_again(path):
    """Writes the .md of an existing results file again; returns it."""
    with open(path) as f:
        return write_markdown(path, json.load(f))
