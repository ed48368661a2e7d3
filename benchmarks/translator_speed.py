"""How fast the TranslatorView decodes in Chromium, and how much it adds to a page.

Run: ``.venv/bin/python benchmarks/translator_speed.py`` (options: ``--numbers``, ``--seed``,
``--nat``, ``--beam``). It builds a page as the website embeds a view (the site's vendored
scripts from ``_assets/vendor``, the widget state in the page, no kernel), opens it in
Debian's Chromium (headless), and for each of ``--numbers`` random 6-digit numbers types it
into ``<input name="number">`` and presses Enter, timing in the page with
``performance.now()``:

- decode: from the Enter key event until ``[data-testid="translation"]`` says
  ``data-state="done"`` (validation, the forward passes, and building every map and bar);
- frame: until the next frame after that (style, layout and paint included).

It prints the median and the 90th percentile of each, and the page weight the view adds: the
bytes of its embedded state (the weights, the vocabularies and its JavaScript and CSS). The
goals of issue 12: a median decode of at most 20 ms (AT, greedy), at most 2.5 MB per page.
This is a script, not a test: timings depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "_assets" / "vendor"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"]

TIME_DECODES = r"""async ([numbers, kind, beam]) => {
    const view = document.querySelector(".attnbook-tview");
    const box = view.querySelector('input[name="number"]');
    const out = view.querySelector('[data-testid="translation"]');
    const done = () => out.dataset.state === "done";
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    if (kind !== "at") view.querySelector(`button[data-kind="${kind}"]`).click();
    if (beam !== 1) view.querySelector(`button[data-beam="${beam}"]`).click();
    await frame();
    const decode = [], paint = [], texts = [];
    for (const n of numbers) {
        box.value = String(n);
        const t0 = performance.now();
        box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
        while (!done()) await new Promise((r) => setTimeout(r, 0));
        const t1 = performance.now();
        await new Promise((r) => requestAnimationFrame(r));
        const t2 = performance.now();
        decode.push(t1 - t0);
        paint.push(t2 - t0);
        texts.push(out.textContent);
        await frame();
    }
    return { decode, paint, texts };
}"""


# The forward passes alone (the module's exported functions, no drawing), per number.
TIME_COMPUTE = r"""async ([code, packed, numbers, kind, passes]) => {
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const mod = await import(url);
    const m = await mod.loadModel(packed);
    const ids = (n) => [...String(n)].map((c) => Number(c) + 4);  // after PAD BEGIN END MASK
    const ms = [];
    for (const pass of [0, 1]) {
        for (const n of numbers) {
            const t0 = performance.now();
            if (kind === "nat") mod.natDecode(m, ids(n), passes);
            else mod.greedyDecode(m, ids(n));
            if (pass) ms.push(performance.now() - t0);
        }
    }
    return ms;
}"""


def build_page(folder: Path, view) -> int:
    """Write index.html embedding `view` as the website does; returns the view's state bytes."""
    from ipywidgets.embed import embed_data

    data = embed_data(views=[view], drop_defaults=False)
    (folder / "vendor").symlink_to(VENDOR, target_is_directory=True)
    state = json.dumps(data["manager_state"])
    specs = "\n".join(f'<script type="{WIDGET_VIEW}">{json.dumps(s)}</script>'
                      for s in data["view_specs"])
    (folder / "index.html").write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>TranslatorView</title>
<script src="vendor/require.js"></script>
<script src="vendor/widgets-setup.js"></script>
<script src="vendor/html-manager/embed-amd.js"></script>
<script type="application/vnd.jupyter.widget-state+json">{state}
</script></head><body>{specs}</body></html>""", encoding="utf-8")
    ours = data["manager_state"]["state"][view.model_id]
    return len(json.dumps(ours).encode("utf-8"))


def page_weight(view) -> dict[str, int]:
    """Bytes the view adds to a page, by part."""
    weights = {k: len(v["weights"]) for k, v in view.models.items()}
    code = len(view._esm.encode("utf-8")) + len(view._css.encode("utf-8"))
    return {**{f"weights {k.upper()} (base64)": v for k, v in weights.items()},
            "JavaScript + CSS": code}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=60, help="6-digit numbers decoded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nat", action="store_true", help="time NAT instead of AT")
    parser.add_argument("--beam", type=int, default=1, help="AT beam size (default 1)")
    args = parser.parse_args(argv)
    if not (VENDOR / "widgets-setup.js").exists():
        print("no vendored scripts in _assets/vendor: run `make book` first", file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import LocalServer, chromium_path
    from playwright.sync_api import sync_playwright

    from attnbook import translate
    from attnbook.widgets import TranslatorView

    view = TranslatorView()
    numbers = random.Random(args.seed).sample(range(100_000, 1_000_000), args.numbers)
    kind = "nat" if args.nat else "at"
    with tempfile.TemporaryDirectory() as tmp:
        state_bytes = build_page(Path(tmp), view)
        server = LocalServer(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(),
                                            args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(server.url + "index.html", wait_until="networkidle")
                page.wait_for_function(
                    "() => document.querySelector('[data-testid=translation]')"
                    "?.dataset.state === 'done'", timeout=30_000)
                # Warm up (the JIT compiles the forward pass), then time.
                page.evaluate(TIME_DECODES, [numbers[:10], kind, args.beam])
                result = page.evaluate(TIME_DECODES, [numbers, kind, args.beam])
                compute = page.evaluate(TIME_COMPUTE, [view._esm, view.models[kind], numbers,
                                                       kind, view.nat_iterations])
                browser.close()
        finally:
            server.close()
    if errors:
        print("page errors:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    model = translate.load_book_model(kind)
    want = translate.translate(model, numbers, beam_size=args.beam if kind == "at" else 1)
    agree = sum(a == b for a, b in zip(result["texts"], want, strict=True))

    def summary(ms):
        q = statistics.quantiles(ms, n=10)
        return f"median {statistics.median(ms):6.2f} ms, 90th percentile {q[-1]:6.2f} ms"

    label = "NAT (mask-predict)" if kind == "nat" else f"AT, beam {args.beam}"
    print(f"{label}, {len(numbers)} six-digit numbers in Chromium (timed in the page):")
    print(f"  Enter → data-state=done : {summary(result['decode'])}")
    print(f"  Enter → next frame      : {summary(result['paint'])}")
    what = "natDecode" if kind == "nat" else "greedyDecode"
    print(f"  forward passes only     : {summary(compute)} ({what}, no drawing)")
    print(f"  same output as PyTorch  : {agree} of {len(numbers)}")
    print(f"page weight the view adds: {state_bytes:,} bytes of embedded state "
          f"({state_bytes / 1e6:.2f} MB)")
    for part, size in page_weight(view).items():
        print(f"  {part:<24}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
