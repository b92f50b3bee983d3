"""The scenarios of :mod:`seawatch.simulate`: real Japanese geography, honest background traffic
and the planted behaviours, each recorded with the detectors' exact event type.

Two seas:

- **Sea of Japan off Niigata** (``niigata-night``, ``sts-transfer``, ``going-dark``,
  ``mmsi-clone``, ``identity-swap``, ``all``): 2024-06-01 08:00Z-20:00Z, i.e. 17:00-05:00 JST;
  sunset at Niigata about 10:00Z, sunrise about 19:22Z. Receivers at Niigata, Ryotsu (Sado),
  Kashiwazaki, Naoetsu (Joetsu) and Awashima. Honest traffic: the coastal lane through the Sado
  strait, the offshore lane west of Sado, port calls at Niigata East from the Korea / Russia
  lanes, Sado Kisen car ferries and jetfoils (Niigata-Ryotsu, ~43 kn) and the Naoetsu-Ogi ferry
  with their timetables and port stays, a long-distance ferry calling at Niigata, Japanese
  trawlers towing at 3-4 kn and returning to port at dusk (some switch AIS off at the berth),
  Japanese squid jiggers leaving port at dusk and drifting with the current all night, Korean
  and Chinese squid jiggers drifting far offshore, coasters at anchor off Niigata East, pleasure
  craft coming home, a Japan Coast Guard patrol.
- **East China Sea off Amami-Oshima** (``amami-2001``): 2001-12-21 22:00Z-08:00Z (07:00-17:00
  JST on 22 December 2001, the day of the real chase). Receivers at Naze, Tokunoshima and
  Takarajima. Honest traffic: the Kagoshima-Okinawa lane, ferries calling at Naze and Kametoku,
  Japanese inshore fishing boats, a pair of Chinese trawlers, a yacht, and the Coast Guard
  patrol boats of the chase (30+ kn: a hard negative for the speed rule).

Sensors (``niigata-night``, ``all``, ``amami-2001``): shore radars at Niigata, Kashiwazaki,
Naoetsu and Ryotsu (:data:`NIIGATA_RADARS`), Naze (:data:`AMAMI_RADARS`), and SAR passes
(:data:`NIIGATA_PASSES`, :data:`AMAMI_PASSES`); ``niigata-night`` and ``all`` add an AIS-silent
wooden boat (:func:`plant_silent_boat`) that only they see.

Every waypoint of honest traffic was chosen in open water (tests/test_simulate.py checks every
honest position against the OpenStreetMap land polygons); the simulator itself reads no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import pairwise

import numpy as np

from .simulate import (
    AT_ANCHOR,
    FISHING,
    RESTRICTED,
    UNDER_WAY,
    Identity,
    Plant,
    Radar,
    Route,
    SatellitePass,
    Scenario,
    Station,
    Vessel,
)
from .tracks import bearing_deg, destination, haversine_nm

H = 3600.0
MIN = 60.0
FAR = 1e7  # "until the end of any run" (seconds)

# ------------------------------------------------------------------------------------------------
# identities


#: Maritime Identification Digits and call-sign series used, per flag (ITU; consistent pairs).
MIDS = {
    "JPN": (431, 432), "KOR": (440, 441), "CHN": (412, 413), "RUS": (273,), "PAN": (351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373),
    "LBR": (636,), "HKG": (477,), "SGP": (563, 564, 565, 566), "MHL": (538,), "TGO": (671,), "PRK": (445,), "SLE": (667,),
}
_L = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_NAMES = {
    "JPN": ("SHINSEI", "KOEI", "HOKO", "TAISEI", "DAITO", "EIKO", "KAIYO", "SEIWA", "FUKUTOKU", "MEISHO", "HOSHO", "KYOEI",
            "SHOEI", "YAMATO", "TENYO", "ZUIHO", "KOTOBUKI", "SUMIYOSHI", "EBISU", "HAKUYO", "NICHIEI", "SANKO", "TOYO",
            "ASAHI", "KINSEI", "KOSHIN", "HIYOSHI", "HOEI", "KAISEI", "SEIRYU", "MYOJIN", "HAKUSAN", "ECHIGO", "KOHO"),
    "KOR": ("HANSUNG", "DONGJIN", "NAMSUNG", "HEUNG A", "PAN", "SINOKOR", "KOREX", "DAEWON", "SAMHO", "KEOYOUNG"),
    "CHN": ("XIN HAI", "ZHONG YUAN", "HUA XIANG", "JIN HANG", "HAI FENG", "MIN SHENG", "LIAN YUN", "DA QING", "HONG YUN"),
    "RUS": ("SAKHALIN", "PRIMORYE", "NAKHODKA", "VOSTOK", "KAPITAN BELOUSOV", "ZARYA", "AMUR", "SIBIR", "KOLYMA"),
    "FOC": ("OCEAN", "PACIFIC", "GOLDEN", "BLUE", "GRAND", "SUNNY", "ORIENT", "ASIAN", "CAPE", "EASTERN", "NOBLE", "CRYSTAL"),
}
_SUFFIX = ("GRACE", "PEARL", "WAVE", "HARMONY", "LEGEND", "TRADER", "SPIRIT", "VENTURE", "FORTUNE", "BREEZE", "GLORY",
           "STAR", "PIONEER", "ACE", "VOYAGER", "HOPE", "UNITY", "BRIGHT", "LOTUS", "DRAGON")
_CHN_FISH = ("MIN JIN YU", "ZHE DAI YU", "LU RONG YU", "LIAO DAN YU", "ZHE LING YU", "MIN LIAN YU")
_KOR_FISH = ("DAE YANG", "HAN RA", "SAM JIN", "O RYONG", "DONG WON")

#: kind -> (ITU ship type, AIS class, length m, beam/length, draught m, service speed kn)
KINDS = {
    "cargo": (70, "A", (85, 170), 0.16, (6.0, 9.5), (11.0, 15.0)),
    "container": (70, "A", (140, 210), 0.15, (8.0, 11.0), (15.5, 18.5)),
    "tanker": (80, "A", (90, 180), 0.17, (6.0, 10.5), (10.0, 13.5)),
    "coaster": (70, "A", (55, 95), 0.17, (3.5, 5.5), (9.0, 12.0)),
    "car ferry": (60, "A", (100, 135), 0.17, (4.8, 5.5), (15.0, 17.5)),
    "long-distance ferry": (60, "A", (195, 200), 0.13, (7.0, 7.2), (22.0, 23.0)),
    "jetfoil": (40, "A", (27, 28), 0.31, (1.5, 1.6), (42.0, 44.0)),
    "trawler": (30, "B", (12, 19), 0.30, (1.5, 2.2), (3.2, 3.8)),
    "squid jigger": (30, "A", (16, 38), 0.20, (2.0, 3.0), (9.0, 11.0)),
    "inshore fishing": (30, "B", (9, 15), 0.30, (1.2, 1.8), (3.0, 4.0)),
    "pleasure craft": (37, "B", (7, 13), 0.32, (0.8, 1.2), (12.0, 18.0)),
    "yacht": (36, "B", (10, 14), 0.30, (1.8, 2.2), (5.0, 7.0)),
    "patrol": (55, "A", (40, 95), 0.14, (2.6, 4.0), (12.0, 16.0)),
}


class Registry:
    """Unique, consistent identities: MMSI with the flag's MID, a call sign of the flag's ITU
    series, a valid IMO number for sea-going ships, a name in the flag's style."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.mmsis: set[int] = set()
        self.names: set[str] = set()
        self.calls: set[str] = set()
        self.imos: set[int] = set()

    def _pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def mmsi(self, flag: str) -> int:
        while True:
            tail = int(self.rng.integers(100_000, 1_000_000))
            s = f"{tail:06d}"
            if len(set(s)) < 3 or s in ("123456", "654321"):
                continue
            m = int(self._pick(MIDS[flag])) * 1_000_000 + tail
            if m not in self.mmsis:
                self.mmsis.add(m)
                return m

    def callsign(self, flag: str, fishing: bool = False) -> str:
        r, p = self.rng, self._pick
        while True:
            letters = "".join(p(_L) for _ in range(3))
            digit = str(int(r.integers(1, 10)))
            cs = {
                "JPN": (f"J{p('DFGHIKLM')}{int(r.integers(1000, 9999))}" if fishing else f"{p(('7J', '8J', 'JL', 'JD'))}{letters[:2]}"),
                "KOR": f"{p(('D7', 'DS', '6K'))}{letters[:2]}{digit}",
                "CHN": f"B{letters}{digit}",
                "RUS": f"UB{letters}{digit}",
                "PAN": f"{p(('3E', '3F', 'H3', 'H9', 'HO'))}{letters}{digit}",
                "LBR": f"{p(('A8', 'D5', '5L'))}{letters}{digit}",
                "HKG": f"VR{letters}{digit}",
                "SGP": f"9V{letters}{digit}",
                "MHL": f"V7{letters}{digit}",
                "TGO": f"5V{letters}{digit}",
                "PRK": f"HM{letters}",
                "SLE": f"9L{letters}{digit}",
            }[flag]
            if cs not in self.calls:
                self.calls.add(cs)
                return cs

    def imo(self) -> int:
        while True:
            d = [9] + [int(x) for x in self.rng.integers(0, 10, 5)]
            check = sum(x * w for x, w in zip(d, (7, 6, 5, 4, 3, 2))) % 10
            n = int("".join(map(str, d + [check])))
            if n not in self.imos:
                self.imos.add(n)
                return n

    def name(self, flag: str, kind: str) -> str:
        p, r = self._pick, self.rng
        for _ in range(1000):
            fishing = KINDS.get(kind, (0,))[0] == 30
            if flag == "JPN":
                base = p(_NAMES["JPN"])
                if fishing:
                    n = f"{base} MARU NO.{int(r.integers(1, 99))}" if r.random() < 0.6 else f"DAI{int(r.integers(2, 99))} {base} MARU"
                elif kind == "patrol":
                    n = f"PL {base}"
                elif kind == "pleasure craft":
                    n = f"{p(('SEA BIRD', 'MARINE', 'BLUE', 'UMI', 'KAZE', 'NAMI'))} {p(_SUFFIX)}"
                else:
                    n = f"{base} MARU" if r.random() < 0.7 else f"{base} MARU NO.{int(r.integers(2, 20))}"
            elif flag == "CHN" and fishing:
                n = f"{p(_CHN_FISH)} {int(r.integers(1000, 9999))}"
            elif flag == "KOR" and fishing:
                n = f"{p(_KOR_FISH)} NO.{int(r.integers(1, 99))}"
            elif flag in ("KOR", "CHN", "RUS"):
                n = f"{p(_NAMES[flag])} {p(_SUFFIX)}" if r.random() < 0.5 else f"{p(_NAMES[flag])} {int(r.integers(1, 30))}"
            else:
                n = f"{p(_NAMES['FOC'])} {p(_SUFFIX)}"
            n = n[:20]
            if n not in self.names:
                self.names.add(n)
                return n
        raise RuntimeError("ran out of names")

    def identity(self, flag: str, kind: str, **over) -> Identity:
        st, klass, (l0, l1), beam_r, (d0, d1), _ = KINDS[kind]
        length = int(self.rng.uniform(l0, l1))
        fishing = st == 30
        sea_going = klass == "A" and not fishing and kind not in ("patrol", "jetfoil")
        fields = {
            "mmsi": self.mmsi(flag),
            "name": self.name(flag, kind),
            "callsign": "" if kind == "pleasure craft" else self.callsign(flag, fishing=fishing),
            "ship_type": st,
            "imo": self.imo() if sea_going else 0,
            "length_m": length,
            "beam_m": max(2, round(length * beam_r)),
            "draught_m": round(float(self.rng.uniform(d0, d1)), 1),
            "destination": "",
        }
        fields.update(over)
        return Identity(**fields)

    def speed(self, kind: str) -> float:
        lo, hi = KINDS[kind][5]
        return float(self.rng.uniform(lo, hi))


# ------------------------------------------------------------------------------------------------
# geography: ports, lanes, grounds (checked against OSM land polygons in tests/test_simulate.py)


@dataclass(frozen=True)
class Port:
    name: str  # as a destination field
    approach: tuple[tuple[float, float], ...]  # outer point, entrance (from sea to berth)
    berth: tuple[float, float]  # within ~1 km of the port in harborly's registry


PORTS = {
    "niigata": Port("NIIGATA", ((38.0, 139.03), (37.985, 139.045)), (37.9599, 139.0801)),
    "niigata_east": Port("NIIGATA", ((38.05, 139.20), (38.035, 139.215)), (38.0167, 139.2333)),
    "ryotsu": Port("RYOTSU", ((38.11, 138.60), (38.10, 138.50)), (38.0833, 138.45)),
    "ogi": Port("OGI", ((37.77, 138.28), (37.795, 138.276)), (37.8098, 138.2727)),
    "naoetsu": Port("NAOETSU", ((37.23, 138.24), (37.20, 138.235)), (37.188, 138.238)),
    "kashiwazaki": Port("KASHIWAZAKI", ((37.40, 138.50), (37.385, 138.53)), (37.3727, 138.541)),
    "teradomari": Port("TERADOMARI", ((37.66, 138.73), (37.65, 138.75)), (37.6451, 138.759)),
    "iwafune": Port("IWAFUNE", ((38.20, 139.39), (38.19, 139.41)), (38.1834, 139.4211)),
    "naze": Port("NAZE", ((28.43, 129.49), (28.402, 129.496)), (28.3939, 129.5008)),
    "kametoku": Port("KAMETOKU", ((27.745, 129.06),), (27.7388, 129.0283)),
}

NIIGATA_STATIONS = (
    Station("niigata", 37.95, 139.05, 40.0),
    Station("ryotsu", 38.08, 138.44, 40.0),
    Station("kashiwazaki", 37.37, 138.55, 40.0),
    Station("naoetsu", 37.18, 138.25, 40.0),
    Station("awashima", 38.47, 139.25, 40.0),
)
#: Naze's antenna is on the hills above the town (~300 m): 2.2 x (sqrt(300) + sqrt(20)) ~ 48 nm.
AMAMI_STATIONS = (
    Station("naze", 28.38, 129.49, 48.0),
    Station("tokunoshima", 27.74, 129.02, 45.0),
    Station("takarajima", 29.145, 129.21, 40.0),
)

#: Shore radars (coastal surveillance, harbour-masked; seaward sectors checked against the OSM coast).
#: Sweeps are logged every 3 min, staggered so that two radars never log the same instant.
NIIGATA_RADARS = (
    Radar("niigata", 37.95, 139.05, antenna_m=60.0, sector=(240.0, 60.0), phase_s=0.0),
    Radar("kashiwazaki", 37.375, 138.545, antenna_m=80.0, sector=(240.0, 30.0), phase_s=45.0),
    Radar("naoetsu", 37.19, 138.245, antenna_m=60.0, sector=(260.0, 45.0), phase_s=90.0, clutter_nm=(1.2, 4.0)),
    Radar("ryotsu", 38.08, 138.44, antenna_m=100.0, sector=(15.0, 95.0), phase_s=135.0),
)
#: Naze's radar shares the AIS station's hill (~150 m): it sees the sea north of Amami-Oshima.
AMAMI_RADARS = (Radar("naze", 28.40, 129.50, antenna_m=150.0, sector=(320.0, 20.0), max_range_nm=36.0),)

#: Shipping lanes (from one end to the other; ships keep to starboard of the centre line).
LANES = {
    # along the Sea of Japan coast: Toyama Bay - Sado strait - Sakata - Akita
    "coastal": ((36.98, 137.25), (37.30, 138.10), (37.55, 138.45), (37.85, 138.72), (38.15, 139.05),
                (38.50, 139.10), (39.0, 139.35), (39.6, 139.45)),
    # offshore, west of Sado
    "offshore": ((37.1, 137.2), (37.6, 137.75), (38.1, 137.95), (38.7, 138.25), (39.4, 138.6)),
    # Niigata East <-> Vladivostok / Nakhodka, north of Sado
    "niigata_nw": ((39.8, 137.0), (38.9, 138.0), (38.45, 138.55), (38.15, 138.85), (38.05, 139.20)),
    # Niigata East <-> Busan / Shanghai, south of Sado and north of Noto
    "niigata_w": ((37.62, 136.5), (37.68, 137.5), (37.68, 138.35), (37.85, 138.80), (38.08, 139.05), (38.05, 139.20)),
    # Kagoshima - Amami - Okinawa, west of the islands
    "amami": ((29.9, 129.2), (29.0, 128.85), (28.3, 128.75), (27.6, 128.45), (26.8, 128.0)),
}

#: Squid-jigging grounds (lat, lon, home port): 6.5-14 nm from shore, at least 5 km apart,
#: with open water on the straight line to the port's outer point.
JIGGING = (
    (37.2, 137.8, "naoetsu"), (37.2, 137.88, "naoetsu"), (37.23, 137.68, "naoetsu"), (37.26, 137.76, "naoetsu"),
    (37.26, 137.84, "naoetsu"), (37.26, 137.92, "naoetsu"), (37.26, 138.0, "naoetsu"), (37.29, 138.12, "naoetsu"),
    (37.32, 138.04, "naoetsu"), (37.32, 138.24, "naoetsu"), (37.35, 137.92, "naoetsu"), (37.35, 138.12, "naoetsu"),
    (37.38, 138.04, "naoetsu"), (37.38, 138.28, "naoetsu"), (37.41, 138.12, "naoetsu"), (37.41, 138.2, "naoetsu"),
    (37.44, 138.28, "kashiwazaki"), (37.44, 138.36, "kashiwazaki"), (37.5, 138.32, "kashiwazaki"),
    (37.56, 138.36, "kashiwazaki"), (37.59, 138.12, "ogi"), (37.59, 138.2, "ogi"), (37.59, 138.28, "ogi"),
    (37.59, 138.48, "kashiwazaki"), (37.65, 138.08, "ogi"), (37.65, 138.2, "ogi"), (37.65, 138.28, "ogi"),
    (37.65, 138.36, "ogi"), (37.65, 138.6, "teradomari"), (37.68, 138.48, "ogi"), (37.71, 138.08, "ogi"),
    (37.71, 138.16, "ogi"), (37.71, 138.36, "ogi"), (37.71, 138.56, "teradomari"), (37.71, 138.64, "teradomari"),
    (37.74, 138.48, "ogi"), (37.77, 137.96, "ogi"), (37.77, 138.04, "ogi"), (37.77, 138.56, "teradomari"),
    (37.77, 138.64, "teradomari"), (37.83, 137.96, "ogi"), (37.83, 138.04, "ogi"), (37.83, 138.6, "teradomari"),
    (37.83, 138.68, "teradomari"), (37.89, 138.68, "ryotsu"), (37.92, 138.76, "niigata"), (37.98, 138.72, "ryotsu"),
    (38.01, 138.88, "niigata"), (38.04, 138.72, "ryotsu"), (38.04, 138.8, "ryotsu"), (38.04, 138.96, "niigata"),
    (38.07, 139.04, "niigata"), (38.1, 138.76, "ryotsu"), (38.1, 138.88, "niigata"), (38.1, 138.96, "niigata"),
    (38.13, 139.16, "niigata"), (38.16, 138.96, "niigata"), (38.16, 139.04, "niigata"), (38.16, 139.24, "iwafune"),
    (38.19, 138.68, "ryotsu"), (38.19, 138.76, "ryotsu"), (38.19, 139.12, "niigata"), (38.22, 139.2, "iwafune"),
    (38.22, 139.28, "iwafune"), (38.25, 138.72, "ryotsu"), (38.25, 138.8, "ryotsu"), (38.25, 139.12, "iwafune"),
    (38.28, 139.04, "niigata"), (38.28, 139.2, "iwafune"), (38.28, 139.28, "iwafune"), (38.31, 138.76, "ryotsu"),
    (38.34, 138.68, "ryotsu"), (38.34, 139.0, "iwafune"), (38.34, 139.08, "iwafune"), (38.4, 138.8, "ryotsu"),
    (38.4, 139.08, "iwafune"), (38.43, 138.6, "ryotsu"), (38.43, 138.68, "ryotsu"), (38.43, 139.0, "iwafune"),
    (38.46, 138.76, "ryotsu"), (38.49, 138.52, "ryotsu"), (38.49, 138.6, "ryotsu"), (38.49, 138.68, "ryotsu"),
    (38.55, 138.52, "ryotsu"), (38.55, 138.6, "ryotsu"), (38.58, 139.4, "iwafune"), (38.61, 139.32, "iwafune"),
    (38.64, 139.24, "iwafune"), (38.64, 139.4, "iwafune"), (38.67, 139.32, "iwafune"),
)
#: Trawling grounds (lat, lon, home port): 4.5-9 nm from shore, at least 6 km apart.
TRAWLING = (
    (37.23, 137.96, "naoetsu"), (37.26, 138.04, "naoetsu"), (37.26, 138.12, "naoetsu"), (37.29, 138.2, "naoetsu"),
    (37.32, 138.28, "naoetsu"), (37.38, 138.28, "naoetsu"), (37.41, 138.36, "kashiwazaki"), (37.59, 138.52, "teradomari"),
    (37.59, 138.6, "teradomari"), (37.89, 138.64, "ryotsu"), (37.89, 138.8, "niigata"), (37.95, 138.64, "ryotsu"),
    (37.98, 138.92, "niigata"), (38.01, 138.68, "ryotsu"), (38.04, 139.0, "niigata"), (38.07, 139.08, "niigata"),
    (38.07, 139.16, "niigata"), (38.1, 138.72, "ryotsu"), (38.13, 139.16, "niigata"), (38.13, 139.24, "iwafune"),
    (38.19, 138.64, "ryotsu"), (38.25, 138.64, "ryotsu"), (38.25, 139.32, "iwafune"), (38.31, 139.24, "iwafune"),
    (38.31, 139.32, "iwafune"), (38.34, 139.16, "iwafune"), (38.37, 139.32, "iwafune"), (38.43, 139.36, "iwafune"),
)
#: Offshore grounds of Korean and Chinese squid jiggers: over 17 nm from any shore.
FOREIGN_JIGGING = (
    (37.38, 137.8), (37.41, 137.72), (37.41, 137.88), (37.44, 137.8), (37.44, 137.96), (37.47, 137.72), (37.47, 137.88),
    (37.47, 138.04), (37.5, 137.8), (37.5, 137.96), (37.5, 138.12), (37.53, 137.88), (37.53, 138.04), (37.56, 137.96),
    (37.59, 137.88), (37.89, 137.84), (37.95, 137.84), (38.22, 138.92), (38.28, 137.84), (38.28, 137.92), (38.28, 138.88),
    (38.34, 137.88), (38.34, 137.96), (38.4, 137.96), (38.4, 138.04), (38.46, 138.0), (38.46, 138.08), (38.49, 138.16),
    (38.55, 138.2), (38.55, 138.76), (38.58, 138.28), (38.61, 138.64), (38.61, 138.72), (38.61, 138.8), (38.67, 138.68),
    (38.67, 138.76), (38.67, 138.84), (38.7, 138.92), (38.7, 139.0), (38.73, 138.68), (38.73, 138.76), (38.73, 138.84),
)
#: Anchorage off Niigata East: coasters waiting for a berth (2 km apart).
NIIGATA_ANCHORAGE = ((38.06, 139.17), (38.075, 139.195), (38.045, 139.145), (38.085, 139.165))
#: The sea current the drifting boats share (Tsushima warm current, north-east along the coast).
CURRENT = (40.0, 0.3)  # bearing deg, knots

NIIGATA_START = datetime(2024, 6, 1, 8, 0, tzinfo=timezone.utc)
AMAMI_START = datetime(2001, 12, 21, 22, 0, tzinfo=timezone.utc)


def jst(hour: float, day: int = 0, start: datetime = NIIGATA_START) -> float:
    """Seconds from the scenario start to ``hour`` (JST clock) of the JST day ``day`` (0 = the
    JST date the scenario starts on)."""
    start_jst_h = (start.hour + 9) % 24 + start.minute / 60.0
    return ((day * 24.0 + hour) - start_jst_h) * H


# ------------------------------------------------------------------------------------------------
# route helpers


def _offset(points, off_nm: float):
    """The polyline shifted ``off_nm`` to starboard of its overall direction."""
    if abs(off_nm) < 1e-9:
        return [tuple(p) for p in points]
    b = float(bearing_deg(points[0][0], points[0][1], points[-1][0], points[-1][1]))
    out = []
    for la, lo in points:
        a, c = destination(la, lo, b + 90.0, off_nm)
        out.append((float(a), float(c)))
    return out


def leave(r: Route, port: Port, kn: float = 6.0) -> Route:
    """From the berth out through the entrance to the outer point."""
    for p in reversed(port.approach):
        r.to(*p, kn)
    return r


def enter(r: Route, port: Port, kn: float = 7.0, berth=None) -> Route:
    """From the outer point in to the berth (the last leg at 4 kn)."""
    for p in port.approach:
        r.to(*p, kn)
    return r.to(*(berth or port.berth), 4.0)


def _berth(rng: np.random.Generator, port: Port, spread_m: float = 120.0) -> tuple[float, float]:
    la, lo = port.berth
    d = spread_m / 1852.0
    a, b = destination(la, lo, float(rng.uniform(0, 360)), float(rng.uniform(0, d)))
    return float(a), float(b)


def _hover(r: Route, rng: np.random.Generator, centre, until: float, kn=(0.6, 1.8), radius_nm=0.8,
           status: int = FISHING) -> Route:
    """Slow random legs around ``centre`` until ``until`` (speeds in ``kn``, within ``radius_nm``)."""
    while r.now < until - 60:
        la, lo = destination(centre[0], centre[1], float(rng.uniform(0, 360)), float(rng.uniform(0, radius_nm)))
        v = float(rng.uniform(*kn))
        d = float(haversine_nm(r.lat[-1], r.lon[-1], la, lo))
        dt = max(d / v * H, 300.0)
        if r.now + dt > until:  # the last leg: stop short, at the same speed
            frac = (until - r.now) / dt
            la = r.lat[-1] + (la - r.lat[-1]) * frac
            lo = r.lon[-1] + (lo - r.lon[-1]) * frac
            r.to_by(float(la), float(lo), until, status)
            break
        r.to_by(float(la), float(lo), r.now + dt, status)
    return r


def _tows(r: Route, rng: np.random.Generator, centre, until: float, kn: float, half_nm: float = 1.5) -> Route:
    """Trawl tows back and forth through ``centre`` (legs of 2 x half_nm) until ``until``."""
    brg = float(rng.uniform(0, 180))
    ends = [destination(centre[0], centre[1], brg, half_nm), destination(centre[0], centre[1], brg + 180, half_nm)]
    k = 0
    while r.now < until - 60:
        la, lo = ends[k % 2]
        la, lo = destination(float(la), float(lo), brg + 90, float(rng.uniform(-0.3, 0.3)))
        d = float(haversine_nm(r.lat[-1], r.lon[-1], la, lo))
        dt = d / kn * H
        if r.now + dt > until:
            frac = (until - r.now) / dt
            r.to_by(r.lat[-1] + (float(la) - r.lat[-1]) * frac, r.lon[-1] + (float(lo) - r.lon[-1]) * frac, until, FISHING)
            break
        r.to(float(la), float(lo), kn, FISHING)
        k += 1
    return r


def _drift(r: Route, until: float, rng: np.random.Generator, status: int = FISHING, current=CURRENT, spread=0.05) -> Route:
    """Drift with the current (and a little of its own) until ``until``."""
    brg = current[0] + float(rng.uniform(-15, 15))
    kn = max(0.05, current[1] + float(rng.uniform(-spread, spread)))
    if until > r.now:
        r.steer(brg, kn, until - r.now, status)
    return r


def _off_in_port(v_off: list, arrive: float, depart: float, rng: np.random.Generator) -> None:
    """AIS switched off at the berth from shortly after arrival to shortly before departure."""
    a = arrive + float(rng.uniform(10, 30)) * MIN
    b = depart - float(rng.uniform(8, 15)) * MIN
    if b - a > 30 * MIN:
        v_off.append((a, b))


# ------------------------------------------------------------------------------------------------
# honest traffic, Sea of Japan


def _lane_ships(rng, reg, duration, lane, rate_h, kinds, flags, dests, density, reverse=False, keep_side=True):
    """Through traffic on a lane: Poisson arrivals at the far end, constant speed."""
    pts = list(LANES[lane])[::-1] if reverse else list(LANES[lane])
    length = sum(float(haversine_nm(*a, *b)) for a, b in pairwise(pts))
    out = []
    span0 = -length / 10.0 * H
    n = rng.poisson(rate_h * density * (duration - span0) / H)
    for t0 in np.sort(rng.uniform(span0, duration, n)):
        kind = str(rng.choice(kinds[0], p=kinds[1]))
        flag = str(rng.choice(flags[0], p=flags[1]))
        kn = reg.speed(kind)
        off = float(rng.uniform(0.4, 1.4)) if keep_side else float(rng.uniform(-1.0, 1.0))
        path = _offset(pts, off)
        r = Route(*path[0], t=float(t0))
        r.via(path[1:], kn)
        if r.now < 0:
            continue
        ident = reg.identity(flag, kind, destination=str(rng.choice(dests)))
        mt = 3 if rng.random() < 0.15 else 1  # some transponders report with message 3 (ITDMA)
        out.append(Vessel(ident, r, klass="A", kind=kind, label=f"{lane} transit", msg_type=mt))
    return out


def _port_calls(rng, reg, duration, density):
    """Ships arriving at and leaving Niigata East from the Korea and Russia lanes."""
    out = []
    port = PORTS["niigata_east"]
    kinds = (["cargo", "container", "tanker"], [0.5, 0.3, 0.2])
    flags = (["KOR", "RUS", "PAN", "CHN", "HKG", "JPN"], [0.25, 0.2, 0.2, 0.15, 0.1, 0.1])
    for lane, far in (("niigata_nw", ("VLADIVOSTOK", "NAKHODKA", "VOSTOCHNY")), ("niigata_w", ("BUSAN", "SHANGHAI", "ULSAN", "DALIAN"))):
        pts = list(LANES[lane])
        # arrivals: spawned far out, alongside after the lane, stay 8-20 h
        n = rng.poisson(0.22 * density * (duration + 8 * H) / H)
        for t0 in np.sort(rng.uniform(-8 * H, duration, n)):
            kind = str(rng.choice(kinds[0], p=kinds[1]))
            flag = str(rng.choice(flags[0], p=flags[1]))
            kn = reg.speed(kind)
            path = _offset(pts, float(rng.uniform(0.3, 1.0)))
            path[-1] = pts[-1]
            r = Route(*path[0], t=float(t0)).via(path[1:-1], kn).to(*path[-1], min(kn, 10.0))
            enter(r, port, 6.0, berth=_berth(rng, port, 250))
            r.until(r.now + float(rng.uniform(8, 20)) * H)
            t_dep = r.now
            leave(r, port, 6.0)
            back = _offset(pts[::-1], float(rng.uniform(0.3, 1.0)))
            r.to(*back[1], 10.0).via(back[2:], kn)
            if r.now < 0 or t0 > duration:
                continue
            ident = reg.identity(flag, kind, destination="NIIGATA")
            out.append(Vessel(ident, r, kind=kind, label=f"port call from {lane}", in_port=[(t_dep - 20 * H, t_dep)]))
        # departures: alongside since before the start, leave during the run
        n = rng.poisson(0.22 * density * duration / H)
        for t_dep in np.sort(rng.uniform(0, duration, n)):
            kind = str(rng.choice(kinds[0], p=kinds[1]))
            flag = str(rng.choice(flags[0], p=flags[1]))
            kn = reg.speed(kind)
            b = _berth(rng, port, 250)
            r = Route(*b, t=float(t_dep - rng.uniform(6, 14) * H)).until(float(t_dep))
            leave(r, port, 6.0)
            back = _offset(pts[::-1], float(rng.uniform(0.3, 1.0)))
            r.to(*back[1], 10.0).via(back[2:], kn)
            ident = reg.identity(flag, kind, destination=str(rng.choice(far)))
            out.append(Vessel(ident, r, kind=kind, label=f"departure to {lane}", in_port=[(-FAR, float(t_dep))]))
    return out


#: Sado Kisen style timetables (JST departures, from, to): car ferries ~2 h 30, jetfoils ~1 h 05.
_TIMETABLES = {
    ("car ferry", "SADO MARU NO.1"): [(5.5, "ryotsu", "niigata"), (9.33, "niigata", "ryotsu"), (12.67, "ryotsu", "niigata"), (15.92, "niigata", "ryotsu")],
    ("car ferry", "SADO MARU NO.2"): [(6.0, "niigata", "ryotsu"), (9.42, "ryotsu", "niigata"), (12.58, "niigata", "ryotsu"), (16.0, "ryotsu", "niigata")],
    ("jetfoil", "JETFOIL KAMOME"): [(7.75, "niigata", "ryotsu"), (9.5, "ryotsu", "niigata"), (11.5, "niigata", "ryotsu"), (14.0, "ryotsu", "niigata"), (16.5, "niigata", "ryotsu"), (18.25, "ryotsu", "niigata")],
    ("jetfoil", "JETFOIL TSUBAME"): [(7.5, "ryotsu", "niigata"), (9.25, "niigata", "ryotsu"), (11.5, "ryotsu", "niigata"), (14.0, "niigata", "ryotsu"), (16.67, "ryotsu", "niigata"), (18.33, "niigata", "ryotsu")],
    ("car ferry", "AKANE MARU"): [(8.33, "ogi", "naoetsu"), (12.0, "naoetsu", "ogi"), (15.17, "ogi", "naoetsu"), (17.5, "naoetsu", "ogi")],
}
_FERRY_LEG = {  # open-water waypoints between the outer points
    ("niigata", "ryotsu"): (), ("ryotsu", "niigata"): (),
    ("naoetsu", "ogi"): ((37.75, 138.30),), ("ogi", "naoetsu"): ((37.75, 138.30),),
}
_FERRY_BERTH_SHIFT = {"JETFOIL KAMOME": 200.0, "JETFOIL TSUBAME": 200.0}


def _ferries(rng, reg, duration, start=NIIGATA_START):
    out = []
    days = range(-1, int(duration // (24 * H)) + 2)
    for (kind, name), table in _TIMETABLES.items():
        ident = reg.identity("JPN", kind, name=name, destination="")
        cruise = 43.0 if kind == "jetfoil" else None
        harbour = 12.0 if kind == "jetfoil" else 7.0
        legs = [(jst(h, d, start), a, b) for d in days for h, a, b in table]
        legs.sort()
        first_port = PORTS[legs[0][1]]
        shift = _FERRY_BERTH_SHIFT.get(name, 0.0)

        def berth_of(p: Port, shift: float = shift):
            if not shift:
                return p.berth
            a, b = destination(p.berth[0], p.berth[1], 200.0, shift / 1852.0)
            return float(a), float(b)

        r = Route(*berth_of(first_port), t=legs[0][0] - 2 * H)
        spans = []
        dur = {"car ferry": 2.5 * H, "jetfoil": 67 * MIN}[kind]
        if name == "AKANE MARU":
            dur = 100 * MIN
        for t_dep, a, b in legs:
            pa, pb = PORTS[a], PORTS[b]
            spans.append((r.now, t_dep))
            r.until(t_dep)
            leave(r, pa, harbour)
            mid = list(_FERRY_LEG[(a, b)])
            if cruise:
                r.via(mid, cruise).to(*pb.approach[0], cruise)
            else:
                t_in = t_dep + dur - 20 * MIN
                pts = mid + [pb.approach[0]]
                total = sum(float(haversine_nm(*p, *q)) for p, q in zip([r.here] + pts[:-1], pts))
                t = r.now
                v = total / max((t_in - t) / H, 0.5)
                v = min(max(v, 12.0), 17.5)
                r.via(pts, v)
            enter(r, pb, harbour, berth=berth_of(pb))
        r.until(r.now + 30 * H)
        spans.append((r.now - 30 * H, FAR))
        out.append(Vessel(ident, r, kind=kind, label=f"ferry {name}", in_port=spans))
    return out


def _long_distance_ferry(rng, reg, duration, density):
    """A Tsuruga-Niigata-Akita ferry: in from the south-west, an hour alongside, out north-east
    with a gentle acceleration (6, 12, 17 kn, then 22.5 kn)."""
    out = []
    if density < 0.5:
        return out
    ident = reg.identity("JPN", "long-distance ferry", name="NIHONKAI STAR", destination="AKITA")
    port = PORTS["niigata"]
    arrive = jst(18.5)
    coastal = list(LANES["coastal"])
    pts_in = _offset(coastal[:4], 0.8) + [(38.0, 139.03)]
    length = sum(float(haversine_nm(*a, *b)) for a, b in pairwise(pts_in))
    r = Route(*pts_in[0], t=arrive - length / 22.5 * H - 15 * MIN)
    r.via(pts_in[1:-1], 22.5).to(*pts_in[-1], 12.0)
    enter(r, port, 7.0, berth=_berth(rng, port, 150))
    t_in = r.now
    r.until(jst(19.5))
    leave(r, port, 6.0)
    out_pts = _offset(coastal[4:], 0.8)
    r.to(*out_pts[0], 12.0).to(*out_pts[1], 17.0).via(out_pts[2:], 22.5)
    out.append(Vessel(ident, r, kind="long-distance ferry", label="ferry NIHONKAI STAR", in_port=[(t_in, jst(19.5))]))
    return out


def _trawlers(rng, reg, duration, n):
    out = []
    grounds = [TRAWLING[i] for i in rng.permutation(len(TRAWLING))[:n]]
    for la, lo, home in grounds:
        port = PORTS[home]
        ident = reg.identity("JPN", "trawler", destination="")
        kn = reg.speed("trawler")
        off_at_berth = rng.random() < 0.6
        days = range(int(duration // (24 * H)) + 2)
        r = None
        off, spans = [], []
        for d in days:
            t_dep = jst(float(rng.uniform(3.3, 4.5)), d)
            t_back = jst(float(rng.uniform(16.8, 18.2)), d)
            if t_dep > duration:
                break
            if r is None:
                r = Route(*_berth(rng, port), t=t_dep - 1 * H)
            else:
                arrived = r.now
                if off_at_berth:
                    _off_in_port(off, arrived, t_dep, rng)
                spans.append((arrived, t_dep))
            r.until(t_dep)
            leave(r, port, 6.0)
            r.to(la, lo, 8.5)
            _tows(r, rng, (la, lo), t_back, kn)
            r.to(*port.approach[0], 8.5)
            enter(r, port, 6.0, berth=_berth(rng, port))
        if r is None:
            continue
        spans.append((r.now, FAR))
        r.until(r.now + 30 * H)
        if off_at_berth:
            _off_in_port(off, spans[-1][0], FAR, rng)
        out.append(Vessel(ident, r, klass="B", kind="trawler", off=off, label=f"trawler of {home}", in_port=spans))
    return out


def _squid_jiggers(rng, reg, duration, n):
    out = []
    grounds = [JIGGING[i] for i in rng.permutation(len(JIGGING))[:n]]
    for la, lo, home in grounds:
        port = PORTS[home]
        ident = reg.identity("JPN", "squid jigger", destination="")
        kn = reg.speed("squid jigger")
        off, spans = [], []
        days = range(-1, int(duration // (24 * H)) + 2)
        r = None
        for d in days:
            t_dep = jst(float(rng.uniform(15.5, 17.4)), d)
            if t_dep > duration:
                break
            t_end = jst(float(rng.uniform(3.8, 4.6)), d + 1)
            if t_end < -2 * H:
                continue
            if r is None:
                r = Route(*_berth(rng, port), t=t_dep - 1 * H)
            else:
                _off_in_port(off, r.now, t_dep, rng)
                spans.append((r.now, t_dep))
            r.until(t_dep)
            leave(r, port, 6.0)
            r.to(la, lo, kn)
            _drift(r, t_end, rng)
            r.to(*port.approach[0], kn)
            enter(r, port, 6.0, berth=_berth(rng, port))
        if r is None:
            continue
        spans.append((r.now, FAR))
        _off_in_port(off, r.now, FAR, rng)
        r.until(r.now + 30 * H)
        out.append(Vessel(ident, r, kind="squid jigger", off=off, label=f"squid jigger of {home}", in_port=spans))
    return out


def _foreign_jiggers(rng, reg, duration, n, avoid=()):
    out = []
    grounds = [FOREIGN_JIGGING[i] for i in rng.permutation(len(FOREIGN_JIGGING))]
    grounds = [g for g in grounds if all(float(haversine_nm(*g, *a)) > 5.0 for a in avoid)][:n]
    for la, lo in grounds:
        flag = "KOR" if rng.random() < 0.5 else "CHN"
        ident = reg.identity(flag, "squid jigger", destination="")
        r = Route(la, lo, t=-2 * H)
        _drift(r, jst(float(rng.uniform(4.2, 4.8)), 1), rng)
        r.steer(300.0 + float(rng.uniform(-20, 20)), float(rng.uniform(7, 9)), 6 * H)
        out.append(Vessel(ident, r, kind="squid jigger", label=f"{flag} squid jigger offshore"))
    return out


def _anchored(rng, reg, duration, n):
    out = []
    for la, lo in NIIGATA_ANCHORAGE[:n]:
        ident = reg.identity("JPN", "coaster", destination="NIIGATA")
        r = Route(la, lo, t=-3 * H).wait(FAR, AT_ANCHOR)
        out.append(Vessel(ident, r, kind="coaster", label="at anchor off Niigata East"))
    return out


def _pleasure(rng, reg, duration, n):
    out = []
    port = PORTS["niigata"]
    for _ in range(n):
        la, lo = destination(38.02, 139.0, float(rng.uniform(200, 360)), float(rng.uniform(2, 5)))
        ident = reg.identity("JPN", "pleasure craft")
        r = Route(float(la), float(lo), t=-1 * H).wait(float(rng.uniform(0.5, 1.6)) * H, UNDER_WAY)
        r.to(*port.approach[0], reg.speed("pleasure craft"))
        enter(r, port, 6.0, berth=_berth(rng, port, 300))
        arrived = r.now
        r.until(FAR)
        off: list = []
        _off_in_port(off, arrived, FAR, rng)
        out.append(Vessel(ident, r, klass="B", kind="pleasure craft", off=off, label="pleasure craft home to Niigata",
                          in_port=[(arrived, FAR)]))
    return out


def _patrol(rng, reg, duration):
    port = PORTS["niigata"]
    ident = reg.identity("JPN", "patrol", name="PL ECHIGO", destination="")
    r = Route(*_berth(rng, port), t=-1 * H).until(jst(18.0))
    leave(r, port, 8.0)
    r.via([(37.90, 138.88), (37.66, 138.62), (37.45, 138.38), (37.66, 138.62), (37.90, 138.88)], 13.0)
    enter(r, port, 8.0)
    back = r.now
    r.until(FAR)
    return [Vessel(ident, r, kind="patrol", label="JCG patrol", in_port=[(-FAR, jst(18.0)), (back, FAR)])]


def niigata_background(rng: np.random.Generator, reg: Registry, duration: float, density: float = 1.0,
                       avoid=()) -> list[Vessel]:
    """The honest sea off Niigata (see the module docstring); ``density`` scales the numbers."""
    vs: list[Vessel] = []
    k = lambda x: max(1, round(x * density))
    coastal_kinds = (["coaster", "cargo", "tanker"], [0.5, 0.3, 0.2])
    coastal_flags = (["JPN", "KOR", "PAN", "CHN"], [0.6, 0.15, 0.15, 0.1])
    offshore_kinds = (["cargo", "container", "tanker"], [0.45, 0.3, 0.25])
    offshore_flags = (["KOR", "CHN", "RUS", "PAN", "LBR", "HKG", "SGP", "MHL"], [0.2, 0.2, 0.1, 0.15, 0.1, 0.1, 0.08, 0.07])
    for rev in (False, True):
        vs += _lane_ships(rng, reg, duration, "coastal", 0.45, coastal_kinds, coastal_flags,
                          ("AKITA", "SAKATA") if not rev else ("FUSHIKI", "TSURUGA", "MAIZURU"), density, reverse=rev)
        vs += _lane_ships(rng, reg, duration, "offshore", 0.35, offshore_kinds, offshore_flags,
                          ("VOSTOCHNY", "TOMAKOMAI") if not rev else ("BUSAN", "QINGDAO", "SHANGHAI"), density, reverse=rev)
    vs += _port_calls(rng, reg, duration, density)
    vs += _ferries(rng, reg, duration)
    vs += _long_distance_ferry(rng, reg, duration, density)
    vs += _trawlers(rng, reg, duration, k(18))
    vs += _squid_jiggers(rng, reg, duration, k(40))
    vs += _foreign_jiggers(rng, reg, duration, k(8), avoid=avoid)
    vs += _anchored(rng, reg, duration, min(4, k(3)))
    vs += _pleasure(rng, reg, duration, k(3))
    vs += _patrol(rng, reg, duration)
    return vs


# ------------------------------------------------------------------------------------------------
# planted behaviours, Sea of Japan


def _timed(points, kn: float, k: int, t_k: float) -> Route:
    """A route through ``points`` at ``kn`` that passes ``points[k]`` at time ``t_k``."""
    d = sum(float(haversine_nm(*p, *q)) for p, q in pairwise(points[: k + 1]))
    return Route(*points[0], t=t_k - d / kn * H).via(points[1:], kn)


def _utc(t: float, start: datetime = NIIGATA_START) -> str:
    from datetime import timedelta

    return (start + timedelta(seconds=round(t / 60.0) * 60.0)).strftime("%H:%MZ")


def plant_night_approach(rng, reg, vs, plants):
    """A DPRK-flagged "fishing boat" crosses from the north-west after dark, hovers 7 nm off the
    Kariwa coast (between Kashiwazaki and Niigata) at 0.6-1.8 kn for 5 h 45 min, with its AIS off
    for 3 h of it, then leaves north-west at 12 kn."""
    ident = reg.identity("PRK", "squid jigger", name="CHONGJIN 8", destination="")
    hover = (37.50, 138.45)
    outer = tuple(float(x) for x in destination(hover[0], hover[1], 310.0, 3.0))
    r = Route(38.30, 137.55, t=-3.0 * H)
    r.to_by(*outer, 3.4 * H)  # ~9.6 kn across from outside every receiver's range
    r.to(*hover, 5.0)
    t0 = r.now
    _hover(r, rng, hover, 9.75 * H, kn=(0.6, 1.8), radius_nm=0.8)
    t1 = r.now
    r.steer(305.0, 12.0, 8 * H)
    off = (5.0 * H, 8.0 * H)
    v = Vessel(ident, r, kind="squid jigger", honest=False, off=[off], label="PLANT night approach")
    vs.append(v)
    plants.append(Plant(
        "night_coastal_approach", v, start_s=t0, end_s=t1,
        note=f"DPRK-flagged (MID 445) declared fishing boat hovering ~7 nm off the Kariwa coast at 0.6-1.8 kn "
             f"from {_utc(t0)} to {_utc(t1)} (JST night), AIS off {_utc(off[0])}-{_utc(off[1])}"))
    plants.append(Plant(
        "ais_gap", v, start_s=off[0], end_s=off[1], how="gap",
        note="the night-approach boat switches its AIS off for 3 h while hovering inside 12 nm"))


def plant_dash(rng, reg, vs, plants):
    """The 1999 Noto pattern west of Sado: a boat disguised as a Japanese fishing boat (type 30)
    idles at 3.5 kn, then dashes zigzagging at 31-33 kn for 35 min when a patrol boat comes up;
    stopped by warning shots, it is escorted to Ogi."""
    ident = reg.identity("JPN", "squid jigger", name="DAI2 TAIYO MARU", destination="")
    r = Route(38.23, 137.99, t=-0.5 * H)
    _tows(r, rng, (38.20, 137.95), 1.0 * H, 3.5, half_nm=0.8)
    t0 = r.now
    r.steer(310.0, 16.0, 90.0)  # accelerating
    legs = ((310.0, 32.0, 6.0), (240.0, 31.0, 6.0), (200.0, 33.0, 6.5))
    for brg, kn, nm in legs:
        r.steer(brg, kn, nm / kn * H)
    t1 = r.now
    r.steer(200.0, 8.0, 90.0)
    stop = r.here
    r.steer(CURRENT[0], 0.5, 45 * MIN, UNDER_WAY)
    t_escort = r.now
    port = PORTS["ogi"]
    r.via([(37.85, 138.0), port.approach[0]], 10.0)
    enter(r, port, 6.0)
    r.until(FAR)
    v = Vessel(ident, r, kind="squid jigger", honest=False, label="PLANT speed dash")
    vs.append(v)
    plants.append(Plant(
        "speed_anomaly", v, start_s=t0, end_s=t1,
        note=f"declared fishing vessel (type 30) dashes from 3.5 kn to 31-33 kn, zigzagging west of Sado for "
             f"{(t1 - t0) / MIN:.0f} min from {_utc(t0)} (the 1999 Noto pattern); stopped and escorted to Ogi"))
    # the patrol boat that chases it (honest: law enforcement, 30 kn)
    pid = reg.identity("JPN", "patrol", name="PL SADO", destination="")
    p = Route(37.98, 138.05, t=-0.5 * H)
    p.to(*destination(38.20, 137.95, 150.0, 1.2), 20.0)
    p.until(t0 + 60.0, UNDER_WAY)
    for brg, kn, nm in legs:
        p.steer(brg, kn - 1.5, nm / kn * H)
    p.to(*destination(stop[0], stop[1], 120.0, 0.5), 10.0)
    p.until(t_escort, UNDER_WAY)
    p.via([destination(37.85, 138.0, 45.0, 0.3), port.approach[0]], 10.0)
    enter(p, port, 6.0, berth=_berth(rng, port, 150))
    p.until(FAR)
    vs.append(Vessel(pid, p, kind="patrol", label="JCG patrol (chase)"))


def plant_sts(rng, reg, vs, plants):
    """A Togo-flagged tanker and a small Japanese boat side by side (45 m apart) for 4 h 15 min,
    drifting at ~0.3 kn 24 nm north of Sado and 21 nm from Awashima."""
    spot = (38.62, 138.85)
    sts0, sts1 = 3.5 * H, 7.75 * H
    tid = reg.identity("TGO", "tanker", destination="NAKHODKA")
    near = tuple(float(x) for x in destination(spot[0], spot[1], 315.0, 1.0))
    t = _timed([(39.3, 138.3), near], 11.0, 1, 3.0 * H).to(*spot, 4.0)
    t.steer(CURRENT[0], 0.3, sts0 - t.now, RESTRICTED)
    p0 = t.here
    t.steer(CURRENT[0], 0.3, sts1 - sts0, RESTRICTED)
    p1 = t.here
    t.steer(CURRENT[0], 0.3, 10.5 * H - t.now, UNDER_WAY)
    t.steer(315.0, 11.0, 6 * H)
    tanker = Vessel(tid, t, kind="tanker", honest=False, label="PLANT STS tanker")
    cid = reg.identity("JPN", "trawler", destination="")
    iwafune = PORTS["iwafune"]

    def abeam(p):
        a, b = destination(p[0], p[1], CURRENT[0] + 90.0, 45.0 / 1852.0)
        return float(a), float(b)

    a0 = abeam(p0)
    wait_at = tuple(float(x) for x in destination(a0[0], a0[1], 135.0, 0.3))
    c = _timed([iwafune.approach[0], wait_at], 10.0, 1, sts0 - 20 * MIN)
    c0 = c.t[0] - 15 * MIN
    c = Route(*iwafune.berth, t=c0 - 60 * MIN).until(c0)
    leave(c, iwafune, 6.0).to(*wait_at, 10.0)
    c.until(sts0 - 8 * MIN, UNDER_WAY)
    c.to_by(*a0, sts0, UNDER_WAY)
    c.to_by(*abeam(p1), sts1, UNDER_WAY)
    c.to(*iwafune.approach[0], 10.0)
    enter(c, iwafune, 6.0)
    c.until(FAR)
    craft = Vessel(cid, c, klass="B", kind="trawler", honest=False, label="PLANT STS small craft")
    vs += [tanker, craft]
    plants.append(Plant(
        "encounter", tanker, craft, start_s=sts0, end_s=sts1, pair=True,
        note=f"Togo-flagged tanker and a small Japanese boat from Iwafune 45 m apart, drifting at 0.3 kn "
             f"{_utc(sts0)}-{_utc(sts1)}, 24 nm N of Sado, 21 nm from Awashima (ship-to-ship transfer)"))


def plant_going_dark(rng, reg, vs, plants):
    """A Chinese fishing vessel silent for 3.5 h in the Sado strait (it reappears 15 nm on), and a
    cargo ship bound for Niigata that goes dark 25 nm out and is never heard again."""
    fid = reg.identity("CHN", "squid jigger", destination="")
    t_off, t_on = 3.0 * H, 6.5 * H
    r = _timed([(38.32, 138.98), (38.02, 138.84), (37.98, 138.80)], 7.0, 2, t_off - 10 * MIN)
    r.steer(225.0, 5.0, t_off - r.now)
    r.to_by(37.80, 138.55, t_on, UNDER_WAY)  # ~4.3 kn while dark
    r.via([(37.68, 138.35), (37.62, 137.6)], 7.0)
    r.steer(270.0, 7.0, 10 * H)
    v = Vessel(fid, r, kind="squid jigger", honest=False, off=[(t_off, t_on)], label="PLANT gap (closed)")
    vs.append(v)
    plants.append(Plant(
        "ais_gap", v, start_s=t_off, end_s=t_on, how="gap",
        note=f"Chinese fishing vessel switches AIS off {_utc(t_off)}-{_utc(t_on)} in the Sado strait and reappears "
             "15 nm south-west (good reception: ferries and squid jiggers all around)"))
    cid = reg.identity("PAN", "cargo", destination="NIIGATA")
    lane = list(LANES["niigata_nw"])
    t_dark = 5.0 * H
    dark_at = (38.20, 138.80)
    c = _timed(lane[:3] + [dark_at], 12.0, 3, t_dark)
    c.to(*lane[-1], 12.0)
    enter(c, PORTS["niigata_east"], 6.0)
    c.until(FAR)
    v2 = Vessel(cid, c, kind="cargo", honest=False, off=[(t_dark, FAR)], label="PLANT gap (open)")
    vs.append(v2)
    plants.append(Plant(
        "ais_gap", v2, start_s=t_dark, end_s=None, how="gap",
        note=f"Panama-flagged cargo ship inbound to Niigata goes dark at {_utc(t_dark)} 25 nm out and is never "
             "heard again (an open gap)"))


def plant_clone(rng, reg, vs, plants):
    """One identity, two transmitters 105-115 nm apart: the real coaster at anchor off Naoetsu,
    and a second transmitter with its MMSI and name off Awashima, heard together for hours."""
    ident = reg.identity("JPN", "coaster", destination="NAOETSU")
    real = Vessel(ident, Route(37.22, 138.20, t=-4 * H).wait(FAR, AT_ANCHOR), kind="coaster",
                  label="clone: the real vessel", honest=False)
    r = Route(39.35, 139.25, t=-1.0 * H)
    r.to(38.95, 139.22, 8.0)
    _tows(r, rng, (38.92, 139.22), r.now + 3.0 * H, 3.0, half_nm=1.2)
    r.steer(5.0, 8.0, 6 * H)
    clone = Vessel(ident, r, kind="coaster", honest=False, label="clone: the second transmitter")
    vs += [real, clone]
    plants.append(Plant(
        "position_jump", real, clone, how="overlap",
        note="MMSI cloned: the real coaster at anchor off Naoetsu and a second transmitter with the same MMSI "
             "and name off Awashima, 105-115 nm apart, both heard"))


def plant_identities(rng, reg, vs, plants, swap_pair: bool = True):
    """Identity games: a tanker renamed at sea; two cargo ships that swap names and call signs;
    a Chinese-MMSI fishing boat with a Japanese call sign."""
    # 1. a tanker renamed at sea, inbound to Niigata East from the north-west
    old = reg.identity("PAN", "tanker", destination="NIIGATA")
    new = Identity(old.mmsi, reg.name("PAN", "tanker"), reg.callsign("PAN"), old.ship_type, old.imo,
                   old.length_m, old.beam_m, old.draught_m, old.destination)
    lane = _offset(list(LANES["niigata_nw"]), 0.6)
    t_ren = 4.0 * H
    r = _timed(lane, 11.0, 2, t_ren)  # renamed where the lane passes north of Sado
    enter(r, PORTS["niigata_east"], 6.0, berth=_berth(rng, PORTS["niigata_east"], 250))
    r.until(FAR)
    v = Vessel(old, r, kind="tanker", honest=False, renames=[(t_ren, new)], label="PLANT identity change")
    vs.append(v)
    plants.append(Plant(
        "identity_change", v, start_s=t_ren, how="rename",
        note=f"tanker renamed at sea at {_utc(t_ren)}: {old.name} / {old.callsign} -> {new.name} / {new.callsign}, "
             "same MMSI, 8 nm north of Sado"))
    if swap_pair:
        # 2. two Panama-flagged cargo ships swap names and call signs, both in coverage
        a = reg.identity("PAN", "cargo", destination="NIIGATA")
        b = reg.identity("PAN", "cargo", destination="NAOETSU")
        a2 = Identity(a.mmsi, b.name, b.callsign, a.ship_type, a.imo, a.length_m, a.beam_m, a.draught_m, a.destination)
        b2 = Identity(b.mmsi, a.name, a.callsign, b.ship_type, b.imo, b.length_m, b.beam_m, b.draught_m, b.destination)
        t_swap = 5.0 * H
        coastal = _offset(list(LANES["coastal"])[:5], 0.7)
        ra = _timed(coastal, 11.0, 2, t_swap).to(38.08, 139.05, 11.0)
        enter(ra, PORTS["niigata_east"], 6.0, berth=_berth(rng, PORTS["niigata_east"], 250))
        ra.until(FAR)
        rb = _timed([(37.75, 136.9), (37.60, 137.6), (37.30, 138.05), PORTS["naoetsu"].approach[0]], 9.5, 2, t_swap)
        enter(rb, PORTS["naoetsu"], 6.0)
        rb.until(FAR)
        va = Vessel(a, ra, kind="cargo", honest=False, renames=[(t_swap, a2)], label="PLANT swap A")
        vb = Vessel(b, rb, kind="cargo", honest=False, renames=[(t_swap, b2)], label="PLANT swap B")
        vs += [va, vb]
        for x, y, z in ((va, a, b), (vb, b, a)):
            plants.append(Plant(
                "identity_change", x, start_s=t_swap, how="rename",
                note=f"identity swap at {_utc(t_swap)}: {y.name} / {y.callsign} now broadcasts {z.name} / {z.callsign} "
                     "(the other ship's), MMSI unchanged"))
    # 3. MID of China, call sign of Japan
    mid = reg.identity("CHN", "squid jigger", callsign=reg.callsign("JPN", fishing=True), destination="")
    m = Route(38.40, 137.96, t=-2 * H)
    _drift(m, jst(4.5, 1), rng)
    m.steer(300.0, 8.0, 6 * H)
    vm = Vessel(mid, m, kind="squid jigger", honest=False, label="PLANT identity mismatch")
    vs.append(vm)
    plants.append(Plant(
        "identity_mismatch", vm, how="statics",
        note=f"MMSI {mid.mmsi} (MID {mid.mmsi // 1_000_000}: China) with the Japanese call sign {mid.callsign}, "
             "drifting with the squid fleet 20 nm west of Sado"))


def plant_silent_boat(rng, reg, vs, plants):
    """An AIS-silent wooden boat (the North Korean pattern: 14 m, no transponder, a weak radar
    echo) crosses from the west-north-west after dark at 6 kn, idles and drifts at 0.3-1.2 kn
    3 nm off the coast between Naoetsu and Kashiwazaki from about 23:00 to 01:15 JST, then goes
    back out the way it came. Only the shore radars and a night SAR pass can see it: its truth
    (``dark_target``, ``dark_track``) is read off the detections (seawatch.simulate._dark_truth)."""
    ident = Identity(0, "WOODEN BOAT (NO AIS)", "", 30, 0, 14, 4, 1.2, "")
    start, hover = (37.62, 137.70), (37.30, 138.32)
    r = Route(*start, t=0.8 * H).to(*hover, 6.0)
    _hover(r, rng, hover, 8.25 * H, kn=(0.3, 1.2), radius_nm=0.6)
    r.to(*start, 6.5)
    r.steer(290.0, 6.5, 4 * H)
    vs.append(Vessel(ident, r, kind="wooden boat", honest=False, ais=False, rcs=0.7,
                     label="PLANT AIS-silent wooden boat"))


# foreign offshore jiggers keep clear of planted boats on their grounds
_NIIGATA_PLANT_SPOTS = ((38.40, 137.96), (38.20, 137.95), (38.62, 138.85), (38.92, 139.22))


def _niigata(plant_fns, density, late=()):
    """A Sea of Japan build: ``plant_fns`` before the honest traffic, ``late`` plants after it
    (they draw from the generator last, so adding them leaves every other vessel as it was)."""
    def build(rng: np.random.Generator, duration: float):
        reg = Registry(rng)
        vs: list[Vessel] = []
        plants: list[Plant] = []
        for f in plant_fns:
            f(rng, reg, vs, plants)
        vs += niigata_background(rng, reg, duration, density, avoid=_NIIGATA_PLANT_SPOTS)
        for f in late:
            f(rng, reg, vs, plants)
        return vs, plants

    return build


# ------------------------------------------------------------------------------------------------
# East China Sea, 22 December 2001


def _amami_t(hour_jst: float) -> float:
    return jst(hour_jst, 0, AMAMI_START)


def plant_amami(rng, reg, vs, plants):
    """The 2001 Amami incident, moved within reach of the Amami receivers: a boat disguised as a
    Chinese fishing vessel (CHANGYU 3705, type 30) is found north-west of Amami-Oshima, pretends to
    fish at 3.5 kn, dashes zigzagging at 31-33 kn for 43 min when the patrol boats come up, is
    stopped by warning shots, dashes again at 31 kn for 21 min, and is stopped for good."""
    ident = reg.identity("CHN", "squid jigger", name="CHANGYU 3705", destination="")
    r = Route(29.158, 128.955, t=-0.5 * H)
    fish_at = (28.768, 128.917)
    r.to(*fish_at, 7.0)
    _tows(r, rng, destination(fish_at[0], fish_at[1], 200.0, 0.6), 3.5 * H, 3.5, half_nm=0.6)
    d1 = r.now
    r.steer(235.0, 15.0, 60.0)
    dash1 = ((235.0, 32.0, 6.0), (185.0, 31.5, 9.0), (215.0, 33.0, 8.0))
    for brg, kn, nm in dash1:
        r.steer(brg, kn, nm / kn * H)
    e1 = r.now
    r.steer(215.0, 8.0, 60.0)
    r.steer(150.0, 0.6, 1.0 * H, UNDER_WAY)
    d2 = r.now
    r.steer(200.0, 15.0, 60.0)
    dash2 = ((200.0, 31.0, 5.0), (160.0, 31.0, 6.0))
    for brg, kn, nm in dash2:
        r.steer(brg, kn, nm / kn * H)
    e2 = r.now
    r.steer(160.0, 6.0, 60.0)
    r.steer(CURRENT[0] + 20, 0.5, 20 * H, UNDER_WAY)
    v = Vessel(ident, r, kind="squid jigger", honest=False, label="PLANT Amami spy boat")
    vs.append(v)
    plants.append(Plant(
        "speed_anomaly", v, start_s=d1, end_s=e1,
        note=f"boat disguised as the Chinese fishing vessel CHANGYU 3705 (type 30) dashes from 3.5 kn to 31-33 kn, "
             f"zigzagging for {(e1 - d1) / MIN:.0f} min from {_utc(d1, AMAMI_START)}, chased by JCG patrol boats"))
    plants.append(Plant(
        "speed_anomaly", v, start_s=d2, end_s=e2,
        note=f"after an hour stopped by warning shots, a second dash at 31 kn for {(e2 - d2) / MIN:.0f} min from "
             f"{_utc(d2, AMAMI_START)}; then stopped for good"))
    # the patrol boats: follow the chase 0.7 nm off at 30+ kn (law enforcement: no speed limit rule)
    lat, lon = np.array(r.lat), np.array(r.lon)
    tt = np.array(r.t)
    for name, side, start, kn in (("PL AMAMI", 90.0, PORTS["naze"], 25.0), ("PL KOSHIKI", 270.0, None, 22.0)):
        pid = reg.identity("JPN", "patrol", name=name, destination="")
        if start is not None:
            p = Route(*start.berth, t=-1 * H).until(1.2 * H)
            leave(p, start, 8.0)
            p.to(28.5, 129.2, kn)
        else:
            p = Route(29.6, 129.3, t=-0.5 * H)
        meet = destination(*fish_at, side, 1.0)
        p.to(float(meet[0]), float(meet[1]), kn)
        p.until(d1 - 5 * MIN, UNDER_WAY)
        # follow: the suspect's waypoints from the first dash on, 90 s later, 0.7 nm to one side
        for k in np.flatnonzero(tt >= d1):
            q = destination(lat[k], lon[k], side, 0.7)
            tk = tt[k] + 90.0
            if tk > p.now + 30:
                p.to_by(float(q[0]), float(q[1]), float(tk), UNDER_WAY)
        v_p = Vessel(pid, p, kind="patrol", label=f"JCG patrol {name}")
        vs.append(v_p)


def amami_background(rng: np.random.Generator, reg: Registry, duration: float) -> list[Vessel]:
    vs: list[Vessel] = []
    for rev in (False, True):
        vs += _lane_ships(rng, reg, duration, "amami", 0.3, (["cargo", "tanker", "container"], [0.5, 0.3, 0.2]),
                          (["JPN", "PAN", "HKG", "KOR", "LBR"], [0.5, 0.2, 0.1, 0.1, 0.1]),
                          ("NAHA",) if not rev else ("KAGOSHIMA",), 1.0, reverse=not rev)
    naze, kame = PORTS["naze"], PORTS["kametoku"]
    via_sw = [(28.45, 129.3), (28.35, 129.12), (28.0, 129.05), (27.8, 129.08)]
    # southbound ferry: Naze -> Kametoku -> out south
    f1 = reg.identity("JPN", "car ferry", name="NANSEI MARU", destination="NAHA")
    r = Route(*naze.berth, t=-2 * H).until(_amami_t(7.3))
    leave(r, naze, 7.0)
    r.via(via_sw, 18.5)
    enter(r, kame, 7.0)
    t_in = r.now
    r.until(t_in + 40 * MIN)
    leave(r, kame, 7.0)
    r.via([(27.3, 129.2), (26.6, 128.9)], 18.5)
    vs.append(Vessel(f1, r, kind="car ferry", label="ferry Naze-Kametoku-Naha",
                     in_port=[(-FAR, _amami_t(7.3)), (t_in, t_in + 40 * MIN)]))
    # northbound ferry: from the south -> Kametoku -> Naze -> out north
    f2 = reg.identity("JPN", "car ferry", name="AMAMI MARU", destination="KAGOSHIMA")
    r = Route(26.9, 128.95, t=_amami_t(6.0)).to(*kame.approach[0], 18.5)
    enter(r, kame, 7.0)
    a1 = r.now
    r.until(a1 + 40 * MIN)
    leave(r, kame, 7.0)
    r.via(via_sw[::-1], 18.5)
    enter(r, naze, 7.0)
    a2 = r.now
    r.until(a2 + 60 * MIN)
    leave(r, naze, 7.0)
    r.via([(28.8, 129.6), (29.5, 129.8), (29.9, 129.95)], 18.5)  # then on to Kagoshima, far out of range
    vs.append(Vessel(f2, r, kind="car ferry", label="ferry Naha-Kametoku-Naze-Kagoshima",
                     in_port=[(a1, a1 + 40 * MIN), (a2, a2 + 60 * MIN)]))
    # Japanese inshore fishing boats off the north-west coast of Amami-Oshima
    for centre in ((28.50, 129.35), (28.55, 129.25), (28.47, 129.18), (28.58, 129.42)):
        ident = reg.identity("JPN", "inshore fishing", destination="")
        r = Route(*destination(centre[0], centre[1], 90.0, 0.5), t=-1 * H)
        _tows(r, rng, centre, FAR / 100, reg.speed("inshore fishing"), half_nm=1.2)
        vs.append(Vessel(ident, r, klass="B", kind="inshore fishing", label="inshore fishing off Amami"))
    # a fishing boat hurrying home to Naze at 14 kn (type 30 under its 18 kn limit)
    ident = reg.identity("JPN", "squid jigger", destination="NAZE")
    r = Route(29.05, 129.45, t=_amami_t(9.5)).to(*naze.approach[0], 14.0)
    enter(r, naze, 6.0)
    arrived = r.now
    r.until(FAR)
    vs.append(Vessel(ident, r, kind="squid jigger", label="fishing boat home to Naze", in_port=[(arrived, FAR)]))
    # a pair of Chinese trawlers towing one net, 0.3 nm apart at 3.5 kn, 15 nm west of Amami
    centre = (28.15, 128.82)
    tow = _tows(Route(*centre, t=-1 * H), rng, centre, FAR / 100, 3.5, half_nm=2.0)
    side = float(rng.uniform(0, 180))
    for off in (-0.15, 0.15):
        ident = reg.identity("CHN", "squid jigger", destination="")
        la, lo = destination(np.array(tow.lat), np.array(tow.lon), side, off)
        r = Route(float(la[0]), float(lo[0]), t=tow.t[0])
        for k in range(1, len(tow.t)):
            r.to_by(float(la[k]), float(lo[k]), tow.t[k], FISHING)
        vs.append(Vessel(ident, r, kind="pair trawler", label="Chinese pair trawler"))
    # a yacht on passage north along the island
    ident = reg.identity("JPN", "yacht", destination="")
    r = Route(28.30, 129.10, t=-1 * H).via([(28.45, 129.30), (28.60, 129.60), (28.90, 129.90)], 6.0)
    vs.append(Vessel(ident, r, klass="B", kind="yacht", label="yacht"))
    return vs


def _amami(rng: np.random.Generator, duration: float):
    reg = Registry(rng)
    vs: list[Vessel] = []
    plants: list[Plant] = []
    plant_amami(rng, reg, vs, plants)
    vs += amami_background(rng, reg, duration)
    return vs, plants


# ------------------------------------------------------------------------------------------------
# the table


_NIIGATA_STORY = ("Sea of Japan off Niigata, 1 June 2024, 17:00-05:00 JST (08:00Z-20:00Z): the evening ferries "
                  "and returning trawlers, then the night of the squid fleet.")

SCENARIO_DEFS: dict[str, Scenario] = {}


def _add(name, description, build, start, hours, stations, story, region, radars=(), passes=()):
    SCENARIO_DEFS[name] = Scenario(name, description, start, hours, stations, build, story, region,
                                   radars=radars, passes=passes)


#: Satellite passes over the Niigata sea: a Sentinel-1-style C-band SAR on its evening ascending
#: pass (08:44Z, 17:44 JST, 250 km swath) and an ALOS-2-style L-band SAR at midnight JST,
#: descending (15:00Z, 70 km stripmap swath along the coast).
NIIGATA_PASSES = (
    SatellitePass("sentinel-1a", "sar", 0.733 * H, ((36.95, 139.10), (38.95, 138.45)), 67.0, scene_s=35.0),
    SatellitePass("alos-2", "sar", 7.0 * H, ((38.10, 138.95), (37.05, 138.05)), 19.0, scene_s=20.0),
)
#: ERS-2 (C-band SAR, 100 km swath) on its 10:30 local descending pass, 22 December 2001.
AMAMI_PASSES = (
    SatellitePass("ers-2", "sar", 3.5 * H, ((29.40, 129.60), (28.00, 129.15)), 27.0, scene_s=25.0, aoi_nm=30.0),
)


_add("amami-2001",
     "2001 Amami incident: a boat disguised as a Chinese fishing vessel dashes at 31-33 kn, twice, chased by the JCG",
     _amami, AMAMI_START, 10.0, AMAMI_STATIONS,
     "East China Sea north-west of Amami-Oshima, 22 December 2001, 07:00-17:00 JST (21 Dec 22:00Z - 22 Dec "
     "08:00Z). In the real incident the boat was found ~240 km north-west of Amami and sank in China's EEZ "
     "after a 9-hour chase; here it is moved within reach of the Amami receivers (AIS was not yet carried "
     "then: the scenario asks what the same behaviour looks like in an AIS feed).", "amami",
     radars=AMAMI_RADARS, passes=AMAMI_PASSES)
_add("niigata-night",
     "night approach: a DPRK-flagged boat hovers off the coast, AIS off for 3 h; an AIS-silent boat on radar",
     _niigata([plant_night_approach], 0.6, late=[plant_silent_boat]), NIIGATA_START, 12.0, NIIGATA_STATIONS,
     _NIIGATA_STORY, "niigata", radars=NIIGATA_RADARS, passes=NIIGATA_PASSES)
_add("sts-transfer",
     "a tanker and a small craft side by side for 4 h at sea north of Sado (ship-to-ship transfer)",
     _niigata([plant_sts], 0.6), NIIGATA_START, 12.0, NIIGATA_STATIONS, _NIIGATA_STORY, "niigata")
_add("going-dark",
     "a fishing vessel silent for 3.5 h in good reception, and a cargo ship that goes dark for good",
     _niigata([plant_going_dark], 0.6), NIIGATA_START, 12.0, NIIGATA_STATIONS, _NIIGATA_STORY, "niigata")
_add("mmsi-clone",
     "one MMSI on two transmitters 105-115 nm apart, both heard for hours",
     _niigata([plant_clone], 0.6), NIIGATA_START, 12.0, NIIGATA_STATIONS, _NIIGATA_STORY, "niigata")
_add("identity-swap",
     "a tanker renamed at sea, two cargo ships swapping names and call signs, a Chinese MMSI with a Japanese call sign",
     _niigata([plant_identities], 0.6), NIIGATA_START, 12.0, NIIGATA_STATIONS, _NIIGATA_STORY, "niigata")
_add("all",
     "every planted behaviour of the Sea of Japan scenarios (and a Noto-style 32 kn dash) in one busy sea",
     _niigata([plant_night_approach, plant_dash, plant_sts, plant_going_dark, plant_clone, plant_identities], 1.0,
              late=[plant_silent_boat]),
     NIIGATA_START, 12.0, NIIGATA_STATIONS, _NIIGATA_STORY, "niigata", radars=NIIGATA_RADARS, passes=NIIGATA_PASSES)

#: scenario name -> one-line description
SCENARIOS: dict[str, str] = {k: v.description for k, v in SCENARIO_DEFS.items()}


# ------------------------------------------------------------------------------------------------
# the demo's small sea


def demo_fleet(rng: np.random.Generator, n: int, duration: float) -> list[Vessel]:
    """``n`` honest vessels on straight legs along the Sado strait (for ``seawatch demo``)."""
    kinds = [  # (kind, flag, class, stem)
        ("cargo", "JPN", "A", "CARGO"), ("tanker", "HKG", "A", "TANKER"), ("car ferry", "JPN", "A", "FERRY"),
        ("trawler", "JPN", "B", "FISHER"), ("coaster", "KOR", "A", "ANCHORED"), ("pleasure craft", "JPN", "B", "PLEASURE"),
    ]
    reg = Registry(rng)
    out = []
    for i in range(n):
        kind, flag, klass, stem = kinds[i % len(kinds)]
        ident = reg.identity(flag, kind, name=f"{stem} MARU {i}")
        la, lo = float(rng.uniform(37.88, 37.98)), float(rng.uniform(138.62, 138.80))
        if stem == "ANCHORED":
            r = Route(la, lo, t=-H).wait(FAR, AT_ANCHOR)
        else:
            kn = reg.speed(kind)
            r = Route(la, lo, t=-60.0).steer(float(rng.choice([40.0, 220.0])) + float(rng.uniform(-10, 10)), kn, duration + 2 * H)
        out.append(Vessel(ident, r, klass=klass, kind=kind, label="demo"))
    return out


__all__ = [
    "AMAMI_PASSES",
    "AMAMI_RADARS",
    "AMAMI_STATIONS",
    "KINDS",
    "LANES",
    "NIIGATA_PASSES",
    "NIIGATA_RADARS",
    "NIIGATA_STATIONS",
    "PORTS",
    "SCENARIOS",
    "SCENARIO_DEFS",
    "Registry",
    "demo_fleet",
    "jst",
]


# ------------------------------------------------------------------------------------------------
# planted behaviours at any place and time (seawatch.inject plants them into real data)
#
# Each builder returns ``(vessels, plants)``; times are seconds from the run's start, ``spot`` a
# (lat, lon). The plans stay compact (within ~5 nm of their spot, the night approach within
# ~16 nm), because outside the zones seawatch ships there is no land mask to steer by: the
# caller puts the spots where real vessels were seen under way. Every vessel keeps
# transmitting until ``t_until`` (the end of the run), so none of them leaves a silence behind.


def _sea_drift(rng: np.random.Generator, kn: float = 0.3) -> tuple[float, float]:
    return float(rng.uniform(0, 360)), kn


def plant_encounter_at(rng, reg, spot, t0: float, t1: float, t_until: float, *, tanker_flag: str = "TGO",
                       craft_flag: str = "RUS") -> tuple[list[Vessel], list[Plant]]:
    """A tanker and a small craft side by side (45 m apart) from ``t0`` to ``t1``, drifting at
    0.3 kn at ``spot`` (a ship-to-ship transfer); before, the tanker arrives and waits, the craft
    comes from 2 nm off; after, the craft stands off 2 nm and both drift."""
    drift = _sea_drift(rng)
    tid = reg.identity(tanker_flag, "tanker", destination="")
    near = tuple(float(x) for x in destination(spot[0], spot[1], drift[0] + 180.0, 0.25))
    t = Route(*near, t=t0 - 1.25 * H).to(*spot, 1.0)
    t.steer(drift[0], drift[1], max(t0 - t.now, 60.0), RESTRICTED)
    p0 = t.here
    t.steer(drift[0], drift[1], t1 - t.now, RESTRICTED)
    p1 = t.here
    t.steer(drift[0], drift[1], t_until - t.now + H, UNDER_WAY)
    tanker = Vessel(tid, t, kind="tanker", honest=False, label="PLANT encounter tanker")
    cid = reg.identity(craft_flag, "trawler", destination="")

    def abeam(p):
        a, b = destination(p[0], p[1], drift[0] + 90.0, 45.0 / 1852.0)
        return float(a), float(b)

    a0 = abeam(p0)
    wait_at = tuple(float(x) for x in destination(a0[0], a0[1], drift[0] + 90.0, 0.4))
    start = tuple(float(x) for x in destination(a0[0], a0[1], drift[0] + 90.0, 2.0))
    c = Route(*start, t=t0 - 1.0 * H).to(*wait_at, 8.0)
    c.until(t0 - 8 * MIN, UNDER_WAY)
    c.to_by(*a0, t0, UNDER_WAY)
    c.to_by(*abeam(p1), t1, UNDER_WAY)
    c.steer(drift[0] + 90.0, 6.0, 20 * MIN)
    c.steer(drift[0], drift[1], t_until - c.now + H, FISHING)
    craft = Vessel(cid, c, klass="B", kind="trawler", honest=False, label="PLANT encounter small craft")
    note = (f"{tanker_flag}-flagged tanker {tid.name} and a small {craft_flag}-flagged boat {cid.name} 45 m apart, "
            f"drifting at {drift[1]:.1f} kn for {(t1 - t0) / H:.1f} h at {spot[0]:.3f}, {spot[1]:.3f} (ship-to-ship transfer)")
    return [tanker, craft], [Plant("encounter", tanker, craft, start_s=t0, end_s=t1, pair=True, note=note)]


def plant_dash_at(rng, reg, spot, t_dash: float, t_from: float, t_until: float, *,
                  flag: str = "CHN") -> tuple[list[Vessel], list[Plant]]:
    """A declared fishing vessel (type 30) towing at 3.5 kn around ``spot`` from ``t_from``,
    dashing at 31-33 kn for ~25 min from ``t_dash`` round a triangle of 4.4 nm legs (back near
    where it started), then stopped, drifting."""
    ident = reg.identity(flag, "squid jigger", destination="")
    r = Route(*destination(spot[0], spot[1], 90.0, 0.8), t=t_from)
    _tows(r, rng, spot, t_dash, 3.5, half_nm=0.8)
    t0 = r.now
    b = float(rng.uniform(0, 360))
    r.steer(b, 16.0, 90.0)
    for k, kn in enumerate((32.0, 31.0, 33.0)):
        r.steer(b + 120.0 * k, kn, 4.4 / kn * H)
    t1 = r.now
    r.steer(b + 240.0, 8.0, 90.0)
    r.steer(float(rng.uniform(0, 360)), 0.5, t_until - r.now + H, UNDER_WAY)
    v = Vessel(ident, r, kind="squid jigger", honest=False, label="PLANT speed dash")
    note = (f"declared fishing vessel {ident.name} (type 30) towing at 3.5 kn dashes at 31-33 kn for "
            f"{(t1 - t0) / MIN:.0f} min round a 4.4 nm triangle at {spot[0]:.3f}, {spot[1]:.3f}; then stopped")
    return [v], [Plant("speed_anomaly", v, start_s=t0, end_s=t1, note=note)]


def plant_clone_at(rng, reg, spot_a, spot_b, t_from: float, t_until: float, *,
                   flag: str = "PAN") -> tuple[list[Vessel], list[Plant]]:
    """One identity on two transmitters: the real coaster at anchor at ``spot_a`` (from half an
    hour before ``t_from``) and a second transmitter towing slowly round ``spot_b`` from ``t_from``."""
    ident = reg.identity(flag, "coaster", destination="")
    real = Vessel(ident, Route(*spot_a, t=t_from - 0.5 * H).wait(FAR, AT_ANCHOR), kind="coaster",
                  honest=False, label="PLANT clone: the real vessel")
    r = Route(*destination(spot_b[0], spot_b[1], 0.0, 1.2), t=t_from)
    _tows(r, rng, spot_b, t_until + H, 3.0, half_nm=1.2)
    clone = Vessel(ident, r, kind="coaster", honest=False, label="PLANT clone: the second transmitter")
    d = float(haversine_nm(*spot_a, *spot_b))
    note = (f"MMSI cloned: coaster {ident.name} at anchor at {spot_a[0]:.3f}, {spot_a[1]:.3f} and a second "
            f"transmitter with its MMSI and name towing at {spot_b[0]:.3f}, {spot_b[1]:.3f}, {d:.0f} nm apart, both heard")
    return [real, clone], [Plant("position_jump", real, clone, how="overlap", note=note)]


def plant_rename_at(rng, reg, spot, t_rename: float, t_from: float, t_until: float, *,
                    flag: str = "PAN") -> tuple[list[Vessel], list[Plant]]:
    """A tanker at anchor at ``spot`` from ``t_from`` whose name and call sign change at ``t_rename``."""
    old = reg.identity(flag, "tanker", destination="")
    new = Identity(old.mmsi, reg.name(flag, "tanker"), reg.callsign(flag), old.ship_type, old.imo,
                   old.length_m, old.beam_m, old.draught_m, old.destination)
    r = Route(*spot, t=t_from).wait(FAR, AT_ANCHOR)
    v = Vessel(old, r, kind="tanker", honest=False, renames=[(t_rename, new)], label="PLANT identity change")
    note = (f"tanker at anchor at {spot[0]:.3f}, {spot[1]:.3f} renamed: {old.name} / {old.callsign} -> "
            f"{new.name} / {new.callsign}, same MMSI and IMO")
    return [v], [Plant("identity_change", v, start_s=t_rename, how="rename", note=note)]


def plant_mismatch_at(rng, reg, spot, t_from: float, t_until: float, *, mmsi_flag: str = "CHN",
                      callsign_flag: str = "JPN") -> tuple[list[Vessel], list[Plant]]:
    """A fishing vessel drifting at ``spot`` whose MMSI (MID of ``mmsi_flag``) and call sign
    (series of ``callsign_flag``) belong to different administrations."""
    ident = reg.identity(mmsi_flag, "squid jigger", callsign=reg.callsign(callsign_flag, fishing=True), destination="")
    r = Route(*spot, t=t_from)
    _drift(r, t_until + H, rng, current=_sea_drift(rng))
    v = Vessel(ident, r, kind="squid jigger", honest=False, label="PLANT identity mismatch")
    note = (f"MMSI {ident.mmsi} (MID {ident.mmsi // 1_000_000}: {mmsi_flag}) with the {callsign_flag} call sign "
            f"{ident.callsign}, drifting at {spot[0]:.3f}, {spot[1]:.3f}")
    return [v], [Plant("identity_mismatch", v, how="statics", note=note)]


def plant_gap_at(rng, reg, p0, p1, t_off: float, t_on: float, t_from: float, t_until: float, *,
                 flag: str = "KOR") -> tuple[list[Vessel], list[Plant]]:
    """A fishing vessel towing round ``p0`` from ``t_from``, silent from ``t_off`` to ``t_on``
    while it moves to ``p1``, then towing round ``p1``."""
    ident = reg.identity(flag, "squid jigger", destination="")
    r = Route(*destination(p0[0], p0[1], 90.0, 0.6), t=t_from)
    _tows(r, rng, p0, t_off, 3.5, half_nm=0.6)
    r.to_by(*p1, t_on, UNDER_WAY)
    _tows(r, rng, p1, t_until + H, 3.5, half_nm=0.6)
    v = Vessel(ident, r, kind="squid jigger", honest=False, off=[(t_off, t_on)], label="PLANT gap")
    d = float(haversine_nm(*p0, *p1))
    note = (f"fishing vessel {ident.name} switches its AIS off for {(t_on - t_off) / H:.2f} h at {p0[0]:.3f}, "
            f"{p0[1]:.3f} and reappears {d:.0f} nm on, amid real traffic heard all the while")
    return [v], [Plant("ais_gap", v, start_s=t_off, end_s=t_on, how="gap", note=note)]


def plant_night_hover_at(rng, reg, outer, hover, h0: float, h1: float, t_until: float, *, flag: str = "PRK",
                         drift_bearing: float = 0.0) -> tuple[list[Vessel], list[Plant]]:
    """A foreign declared fishing boat comes in from ``outer`` at 9 kn, hovers at 0.6-1.8 kn
    within 0.8 nm of ``hover`` (inside the territorial sea, at night) from ``h0`` to ``h1``, goes
    back out at 10 kn and drifts beyond the territorial sea along ``drift_bearing``."""
    ident = reg.identity(flag, "squid jigger", destination="")
    d = float(haversine_nm(*outer, *hover))
    r = Route(*outer, t=h0 - d / 9.0 * H - 10 * MIN).wait(10 * MIN, UNDER_WAY)
    r.to(*hover, 9.0)  # arrives at h0
    _hover(r, rng, hover, h1, kn=(0.6, 1.8), radius_nm=0.8)
    r.to(*outer, 10.0)
    r.steer(drift_bearing, 0.3, max(t_until - r.now, 0.0) + H, UNDER_WAY)
    v = Vessel(ident, r, kind="squid jigger", honest=False, label="PLANT night approach")
    note = (f"{flag}-flagged declared fishing boat {ident.name} hovering at 0.6-1.8 kn at {hover[0]:.3f}, "
            f"{hover[1]:.3f} inside the territorial sea at night for {(h1 - h0) / H:.1f} h")
    return [v], [Plant("night_coastal_approach", v, start_s=h0, end_s=h1, note=note)]


__all__ += [
    "plant_clone_at",
    "plant_dash_at",
    "plant_encounter_at",
    "plant_gap_at",
    "plant_mismatch_at",
    "plant_night_hover_at",
    "plant_rename_at",
]
