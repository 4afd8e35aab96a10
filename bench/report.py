"""Figures, timings, the printed table and the JSON written to bench/results/."""

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Timing:
    """Seconds of each measured run (warm-ups excluded)."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def repeat(run: Callable[[], object], *, runs: int, warmups: int) -> tuple[Timing, object]:
    """Time ``run`` ``runs`` times after ``warmups`` unmeasured calls; return the timing and
    the last result. ``run`` may return a float: its own measure of the seconds it took
    (an HTTP response's time to last byte, say), used instead of the wall-clock time."""
    result = None
    for _ in range(warmups):
        result = run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
        samples.append(_seconds_of(result, elapsed))
    return Timing(samples), result


def interleave(
    calls: dict[str, Callable[[], object]], *, runs: int, warmups: int
) -> dict[str, tuple[Timing, object]]:
    """Like ``repeat`` for several calls, taking turns (a, b, c, a, b, c...): on a machine
    shared with other work, a busy moment slows every side of a comparison alike."""
    results: dict[str, object] = {}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for turn in range(warmups + runs):
        for name, call in calls.items():
            started = time.perf_counter()
            results[name] = call()
            elapsed = time.perf_counter() - started
            if turn >= warmups:
                samples[name].append(_seconds_of(results[name], elapsed))
    return {name: (Timing(samples[name]), results[name]) for name in calls}


def _seconds_of(result, elapsed: float) -> float:
    seconds = getattr(result, "seconds", None)
    return seconds if isinstance(seconds, float) else elapsed


#: How a figure compares with its target.
AT_MOST = "<="
AT_LEAST = ">="


@dataclass
class Figure:
    key: str
    label: str
    unit: str
    stockroom: float
    floor: float | None = None
    #: stockroom / floor; for "x faster than" figures, the other way round (see ``label``).
    ratio: float | None = None
    #: The same page through the Django admin's changelist, where there is one.
    admin: float | None = None
    #: (AT_MOST or AT_LEAST, bound): what ``ratio`` (or ``stockroom`` without a floor) must meet.
    target: tuple[str, float] | None = None
    details: dict = field(default_factory=dict)
    #: Reasons the figure fails whatever its value (query counts that vary with the page).
    fails: list[str] = field(default_factory=list)

    @property
    def checked_value(self) -> float | None:
        return self.ratio if self.ratio is not None else self.stockroom

    @property
    def passed(self) -> bool | None:
        if self.fails:
            return False
        if self.target is None or self.checked_value is None:
            return None
        comparison, bound = self.target
        value = self.checked_value
        return value <= bound if comparison == AT_MOST else value >= bound

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        comparison, bound = self.target
        suffix = "x" if self.ratio is not None else f" {self.unit}"
        return f"{comparison} {bound:g}{suffix}"

    def as_json(self) -> dict:
        data = asdict(self)
        data["target"] = self.target_text or None
        data["passed"] = self.passed
        return data


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit in ("queries", "lines", "rows", "problems"):
        return f"{value:.0f} {unit}"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def table(figures: list[Figure]) -> str:
    """The figures as a Markdown table (printed, and pasted in the README)."""
    rows = [("figure", "Stockroom", "floor", "Django admin", "ratio", "target", "pass")]
    for figure in figures:
        rows.append(
            (
                figure.label,
                _number(figure.stockroom, figure.unit),
                _number(figure.floor, figure.unit),
                _number(figure.admin, figure.unit),
                "–" if figure.ratio is None else f"{figure.ratio:.2f}x",
                figure.target_text or "–",
                {True: "pass", False: "FAIL", None: "–"}[figure.passed],
            )
        )
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
        if number == 0:
            lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def write_json(payload: dict, *, directory: Path = RESULTS_DIR, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
