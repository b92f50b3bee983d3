"""What every ingest stage returns: canonical tables plus line accounting."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .. import schema


@dataclass
class IngestResult:
    """Tables in the schema of :mod:`seawatch.schema` and the accounting of input lines.

    Invariant (tested): ``lines_read == lines_decoded + lines_rejected``, where rejected lines
    include the skipped non-AIS ones (their reasons are in ``schema.SKIPPED_REASONS``) and
    ``len(rejects) == lines_rejected``: every line not turned into data is in the quarantine.
    """

    positions: pl.DataFrame = field(default_factory=lambda: schema.empty("positions"))
    statics: pl.DataFrame = field(default_factory=lambda: schema.empty("statics"))
    other: pl.DataFrame = field(default_factory=lambda: schema.empty("other"))
    rejects: pl.DataFrame = field(default_factory=lambda: schema.empty("rejects"))
    lines_read: int = 0
    lines_decoded: int = 0
    #: receptions dropped because another receiver's copy of the same message was kept
    duplicates: int = 0

    @property
    def lines_rejected(self) -> int:
        return self.rejects.height

    def tables(self) -> dict[str, pl.DataFrame]:
        return {
            "positions": self.positions,
            "statics": self.statics,
            "other": self.other,
            "rejects": self.rejects,
        }

    def tagged(self, source: str) -> dict[str, pl.DataFrame]:
        """:meth:`tables` with the ``source`` column of positions, statics and other set to
        ``source`` where the input did not name one (the store keeps each row's source)."""
        out = self.tables()
        for name in ("positions", "statics", "other"):
            df = out[name]
            if df.height:
                tag = pl.lit(source, dtype=pl.Utf8)
                out[name] = df.with_columns(source=pl.coalesce(pl.col("source"), tag) if "source" in df.columns else tag)
        return out

    @staticmethod
    def concat(results: list["IngestResult"]) -> "IngestResult":
        if not results:
            return IngestResult()
        out = IngestResult(
            **{
                name: pl.concat([getattr(r, name) for r in results], how="vertical")
                for name in ("positions", "statics", "other", "rejects")
            }
        )
        out.lines_read = sum(r.lines_read for r in results)
        out.lines_decoded = sum(r.lines_decoded for r in results)
        out.duplicates = sum(r.duplicates for r in results)
        return out
