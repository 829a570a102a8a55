"""A results store for sweeps: one row per run, keyed by a hash of (config, seed, code version).

The run key is the SHA-256 of canonical JSON holding the scenario config (data files by their
content hash, the config's name and description left out since they do not change a run),
the seed and the code version: the git version string of :func:`experiments.results.code_version`
(``-dirty`` included), a hash of the model's source and data files and the versions of the
numerical packages the model uses. So a run is reused only when nothing that could change its
result has changed, and results of modified code are never reused silently. The store is a
SQLite file (stdlib ``sqlite3``) with the table ``runs(run_key PRIMARY KEY, status,
outcomes_json, error, seconds, created)``; only the main process of a sweep writes to it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import abm
from abm.config import ScenarioConfig
from abm.population import file_sha256
from experiments import results

STORE_FILE = "store.sqlite"
# packages whose version can change a run's numbers
MODEL_PACKAGES: tuple[str, ...] = ("numpy", "pandas", "scipy", "mesa")
# model files whose content can change a run's numbers
MODEL_SUFFIXES: tuple[str, ...] = (".py", ".csv", ".json")
_QUERY_CHUNK = 500  # keys per SELECT ... IN (...), well under SQLite's variable limit

RunStatus = Literal["ok", "failed"]


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One run as stored: its key, status, headline outcomes (or error) and run time."""

    run_key: str
    status: RunStatus
    outcomes: dict[str, float]
    error: str | None = None
    seconds: float = 0.0
    created: str = ""


@functools.cache
def model_fingerprint() -> str:
    """SHA-256 of the model's source and data files and of the numerical package versions.

    Computed once per process; a Dask worker compares its own with the sweep's so that a
    worker running other model code is caught instead of silently mixing results.
    """
    root = Path(abm.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in MODEL_SUFFIXES and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    for name in MODEL_PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        digest.update(f"{name}={version}\0".encode())
    return digest.hexdigest()


def code_version() -> dict[str, str]:
    """What the run key records of the code: git version (with -dirty) and model fingerprint."""
    return {"git": results.code_version(), "model_sha256": model_fingerprint()}


@functools.cache
def _data_hash(path: str) -> str:
    return file_sha256(Path(path))


def stable_config(config: ScenarioConfig) -> dict[str, Any]:
    """The config as data, without name/description, data files by content (machine independent)."""
    out = config.as_dict()
    out.pop("name", None)
    out.pop("description", None)
    out["population"] = {
        key: _data_hash(str(value)) if key.endswith("_csv") else value
        for key, value in out["population"].items()
    }
    return out


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=str)


def run_key(config: ScenarioConfig, seed: int, code: Mapping[str, str] | None = None) -> str:
    """The store key of one run: SHA-256 of canonical JSON of (config, seed, code version)."""
    return run_keys(config, [seed], code_version() if code is None else code)[0]


def run_keys(config: ScenarioConfig, seeds: Sequence[int], code: Mapping[str, str]) -> list[str]:
    """Store keys of one config with several seeds (the config is serialised once).

    Each key hashes the text ``{"code":...,"config":...,"seed":N}`` (canonical JSON).
    """
    head = f'{{"code":{canonical_json(dict(code))},"config":{canonical_json(stable_config(config))}'
    return [hashlib.sha256(f'{head},"seed":{int(seed)}}}'.encode()).hexdigest() for seed in seeds]


class RunStore:
    """The SQLite store of a sweep's runs; use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS runs ("
                " run_key TEXT PRIMARY KEY,"
                " status TEXT NOT NULL,"
                " outcomes_json TEXT NOT NULL,"
                " error TEXT,"
                " seconds REAL NOT NULL,"
                " created TEXT NOT NULL)"
            )

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def get_many(self, keys: Iterable[str]) -> dict[str, StoredRun]:
        """The stored runs among ``keys``, by key (keys not in the store are absent)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, StoredRun] = {}
        for start in range(0, len(wanted), _QUERY_CHUNK):
            part = wanted[start : start + _QUERY_CHUNK]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                "SELECT run_key, status, outcomes_json, error, seconds, created FROM runs "
                f"WHERE run_key IN ({marks})",
                part,
            )
            for key, status, outcomes, error, seconds, created in rows:
                found[key] = StoredRun(key, status, json.loads(outcomes), error, seconds, created)
        return found

    def put_many(self, rows: Iterable[StoredRun]) -> int:
        """Insert or replace runs in one transaction; returns how many were written."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        values = [
            (
                row.run_key,
                row.status,
                json.dumps(row.outcomes),  # NaN is kept (as the JSON extension NaN)
                row.error,
                float(row.seconds),
                row.created or now,
            )
            for row in rows
        ]
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO runs "
                "(run_key, status, outcomes_json, error, seconds, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
        return len(values)

    def count(self, status: RunStatus | None = None) -> int:
        """Number of stored runs (with ``status``, if given)."""
        if status is None:
            (n,) = self._db.execute("SELECT COUNT(*) FROM runs").fetchone()
        else:
            (n,) = self._db.execute(
                "SELECT COUNT(*) FROM runs WHERE status = ?", (status,)
            ).fetchone()
        return int(n)

    def keys(self) -> Iterator[str]:
        """Every stored run key."""
        for (key,) in self._db.execute("SELECT run_key FROM runs"):
            yield key
