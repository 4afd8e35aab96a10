"""How big the benchmark's data is, and how many times each figure is measured."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    #: Variants (SKUs); every variant has a stock line in every warehouse.
    variants: int
    warehouses: int
    #: Movements written by the seed, spread over the stock lines (some lines never move).
    movements: int
    #: Measured runs per figure (the median is reported), after ``warmups`` unmeasured ones.
    runs: int
    warmups: int
    #: Runs of the slow comparisons (the admin's deep pages, the full exports).
    slow_runs: int
    #: Seconds each adjustment throughput run lasts.
    adjust_seconds: float
    #: Lines of the reception (at most the variants); a count covers one whole warehouse.
    reception_lines: int = 1000
    #: "A few minutes" to seed at full scale; no bound for the smaller ones.
    seed_seconds_target: float | None = None
    #: Runs of the list pages, their floors and the empty view: pages of a few milliseconds,
    #: whose median over 7 runs moved by 20% from one run of the benchmark to the next.
    list_runs: int | None = None

    @property
    def stock_lines(self) -> int:
        return self.variants * self.warehouses


SCALES = {
    "full": Scale(
        "full",
        variants=100_000,
        warehouses=10,
        movements=10_000_000,
        runs=7,
        warmups=2,
        slow_runs=3,
        adjust_seconds=5.0,
        seed_seconds_target=300.0,
        list_runs=31,
    ),
    "small": Scale(
        "small",
        variants=1_000,
        warehouses=10,
        movements=100_000,
        runs=5,
        warmups=1,
        slow_runs=3,
        adjust_seconds=1.0,
    ),
    # What the test suite runs so that the harness cannot rot: seconds, not minutes.
    "tiny": Scale(
        "tiny",
        variants=60,
        warehouses=3,
        movements=1_500,
        runs=1,
        warmups=0,
        slow_runs=1,
        adjust_seconds=0.3,
        reception_lines=40,
    ),
}
