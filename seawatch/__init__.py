"""seawatch: maritime domain awareness from AIS.

sources -> ingest -> store -> tracks -> detect -> events/scores -> (cli | api | web map | alerts)
"""

from . import schema
from .errors import SeawatchError
from . import ingest
from .ingest import IngestResult, NmeaDecoder, decode_nmea, read_provider
from .store import Store, export_table
from .tracks import build_tracks, materialise_tracks
from .eval import evaluate

__version__ = "0.1.0"

__all__ = [
    "IngestResult",
    "NmeaDecoder",
    "SeawatchError",
    "Store",
    "__version__",
    "build_tracks",
    "decode_nmea",
    "evaluate",
    "export_table",
    "ingest",
    "materialise_tracks",
    "read_provider",
    "schema",
]
