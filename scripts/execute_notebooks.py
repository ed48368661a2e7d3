"""Re-execute chapter notebooks in place, storing their outputs and widget state (`make execute`).

The committed notebooks are what readers see on the website and what strict nbval compares a
fresh run against, so they must be executed with the code as it is now. Widget model ids are
random; they are renamed to ids derived from the notebook's name and the widget's order, so
that re-executing an unchanged notebook leaves it byte for byte unchanged in git.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path

import nbformat
import yaml
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ID_NAMESPACE = uuid.UUID("6f1c1c3e-8a57-4d1b-9a55-1d0c6a7d1b61")
# The kernel the chapters name in their metadata (and the website's build uses).
KERNEL = "python3"


def _widget_order(nb: nbformat.NotebookNode, state: dict) -> list[str]:
    """The notebook's widget models in an order that does not depend on their random ids:
    views in the order the cells show them, each followed by the models it refers to."""
    order: list[str] = []

    def visit(model_id: str) -> None:
        if model_id in order or model_id not in state:
            return
        order.append(model_id)
        refs = json.dumps(state[model_id].get("state", {}), sort_keys=True)
        for ref in re.findall(r"IPY_MODEL_([0-9a-f]{32})", refs):
            visit(ref)

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                visit(view["model_id"])
    # Models no view refers to, ordered by their content.
    rest = sorted(set(state) - set(order), key=lambda m: json.dumps(state[m], sort_keys=True))
    return order + rest


def stable_widget_ids(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Replace random widget model ids by ids that depend only on `name` and the notebook's
    structure. Applying it twice changes nothing."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return nb
    new_ids = {
        old: uuid.uuid5(ID_NAMESPACE, f"{name}:{index}").hex
        for index, old in enumerate(_widget_order(nb, state))
    }
    # One simultaneous substitution: old and new ids may overlap when re-run.
    text = re.sub(r"[0-9a-f]{32}", lambda m: new_ids.get(m.group(0), m.group(0)), json.dumps(nb))
    return nbformat.from_dict(json.loads(text))


def install_cell_source(repository_url: str) -> str:
    """The first cell of every chapter: on Colab (or any kernel without the package) it installs
    attnbook from the book's repository, whose URL is set once, in _config.yml."""
    return (
        "# On Colab or a fresh kernel: install the book's package if it is missing.\n"
        "try:\n"
        "    import attnbook\n"
        "except ImportError:\n"
        f'    repository = "git+{repository_url}"\n'
        '    %pip install -q "attnbook @ {repository}"'
    )


def repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"]


def set_install_cell(nb: nbformat.NotebookNode, url: str) -> nbformat.NotebookNode:
    """Write the install cell with the repository URL of _config.yml (hidden on the website)."""
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "code" or "import attnbook" not in first.source:
        raise ValueError("the first cell must be the install cell (`try: import attnbook ...`)")
    first.source = install_cell_source(url)
    tags = first.metadata.setdefault("tags", [])
    if "remove-cell" not in tags:
        tags.append("remove-cell")
    return nb


def merge_streams(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Join consecutive stdout (or stderr) outputs of a cell: how printed text is split into
    messages depends on timing, and the committed file should not."""
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None
                    and previous.output_type == "stream" and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged
    return nb


def this_environments_kernel() -> str:
    """The name of the kernel to run the chapters in, after making sure that it runs this
    environment's Python (the .venv's), whatever kernels the machine or the user has: the
    environment's own kernels are looked up first (as the Makefile's JUPYTER_PATH does)."""
    own = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [own] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    python = spec.argv[0]
    # jupyter_client runs a bare "python" / "python3" as this very interpreter. (Paths are
    # compared unresolved: a venv's python is a link to the Python it was made from.)
    version = sys.version_info
    bare = {"python", f"python{version[0]}", f"python{version[0]}.{version[1]}"}
    here = Path(sys.executable).absolute().parent
    if python not in bare and Path(python).absolute().parent != here:
        sys.exit(f"the kernel {KERNEL!r} runs {python}, not this environment's Python"
                 f" ({sys.executable}): run `make install`, which installs the .venv's kernel,"
                 f" or remove {spec.resource_dir}")
    return KERNEL


def execute(path: Path, timeout: int) -> float:
    nb = set_install_cell(nbformat.read(path, as_version=4), repository_url())
    # The code the outputs come from, for `make book` (scripts/notebook_inputs.py, beside
    # this script; imported here, since the tests load this file without its folder).
    from notebook_inputs import inputs_hash

    nb.metadata.setdefault("attnbook", {})["inputs"] = inputs_hash()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=this_environments_kernel(),
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb = stable_widget_ids(merge_streams(nb), path.stem)
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
