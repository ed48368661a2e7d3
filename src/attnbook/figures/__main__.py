"""``python -m attnbook.figures --out figures``: write every figure to ``figures/<id>.svg``,
and in Chinese to ``figures/zh_CN/<id>.svg`` (``--language en`` or ``--language zh_CN``: one).

Importing the package (which this does first) registers F1–F19; ``make figures`` runs it.
"""

from attnbook.figures.registry import main

if __name__ == "__main__":
    main()
