"""Re-execute chapter notebooks in place, storing their outputs and widget state (`make execute`).

The committed notebooks are what readers see on the website and what strict nbval compares a
fresh run against, so they must be executed with the code as it is now. Widget model ids are
random; they are renamed to ids derived from the notebook's name and the widget's order, so
that re-executing an unchanged notebook leaves it byte for byte unchanged in git.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
ID_NAMESPACE = uuid.UUID("6f1c1c3e-8a57-4d1b-9a55-1d0c6a7d1b61")


def stable_widget_ids(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Replace random widget model ids by ids that depend only on `name` and their order."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return nb
    text = json.dumps(nb)
    for index, old in enumerate(list(state)):
        new = uuid.uuid5(ID_NAMESPACE, f"{name}:{index}").hex
        text = text.replace(old, new)
    return nbformat.from_dict(json.loads(text))


def execute(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb = stable_widget_ids(nb, path.stem)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path} ...", flush=True)
        try:
            seconds = execute(path, args.timeout)
        except Exception as err:  # the notebook's own error, shown with its traceback
            sys.exit(f"{path} failed:\n{err}")
        print(f"  {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
