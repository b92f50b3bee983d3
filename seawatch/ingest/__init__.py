"""Ingest: AIS as it really comes (NMEA 0183 logs, provider CSV/Parquet) into canonical tables.

- :func:`decode_nmea` / :class:`NmeaDecoder`: columnar NMEA decoding (one call, or streaming).
- :func:`read_provider` / :func:`sniff`: decoded provider tables (NOAA, DMA, seawatch Parquet).
- :func:`ingest`: files (plain, .gz, .zip) into a store, bounded memory, idempotent.
"""

from .files import ingest
from .nmea import NmeaDecoder, decode_nmea
from .providers import read_provider, sniff
from .result import IngestResult

__all__ = ["IngestResult", "NmeaDecoder", "decode_nmea", "ingest", "read_provider", "sniff"]
