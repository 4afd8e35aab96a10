"""What every measurement works with: the scale, the server, a logged-in client, a raw
psycopg connection (the floors), and the figures collected so far."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from .http import Client
from .report import Figure
from .scales import Scale
from .server import AppServer

#: The user the pages are measured as: the merchant, who opens the list every morning.
USERNAME = "merchant"
PASSWORD = "demo"
#: The server's query log in the work folder (bench.middleware, BENCH_QUERY_LOG).
QUERY_LOG = "queries.jsonl"


@dataclass
class Bench:
    scale: Scale
    server: AppServer
    client: Client
    raw: psycopg.Connection
    workdir: Path
    progress: Callable[[str], None] = print
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        verdict = {True: "pass", False: "FAIL", None: ""}[figure.passed]
        ratio = "" if figure.ratio is None else f" ratio {figure.ratio:.2f}"
        self.progress(f"  {figure.label}: {figure.stockroom:.2f} {figure.unit}{ratio} {verdict}")
        return figure

    def sql(self, query: str, params=None) -> list[tuple]:
        with self.raw.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()
