"""The one results layer: atomic writing, manifests and reading of every results directory.

Every govsim command that writes results goes through this module:

- :func:`atomic_dir` builds a directory in a temporary sibling and renames it into place only
  when the block succeeds, so a failed or killed command (even ``kill -9``) leaves no partial
  directory under the name asked for; :func:`atomic_file` does the same for one file (a
  stray ``.name.*`` temporary sibling of a killed command is ignored and removed by the next
  write);
- :func:`new_manifest` gives every manifest the same provenance keys (``kind``, ``run_id``,
  created time, command, reproduce command, code version and dirty flag, package versions,
  the data-file hashes of the scenarios actually used, seeds, the posterior used);
  :func:`write_manifest` writes it;
- :func:`read_manifest` reads one back and checks its ``kind``: a reader never guesses what
  wrote a directory.

Manifest keys shared by all kinds (see ``docs/ARCHITECTURE.md``):

``kind``, ``run_id``, ``created_utc``, ``command``, ``reproduce``, ``code_version``,
``code_dirty``, ``package_versions`` (name -> version; ``packages`` is reserved for lever
packages of experiment files), ``data_sha256`` (data file -> SHA-256), ``seeds``, ``posterior``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from abm.config import ScenarioConfig
from abm.outputs import SimulationResult
from abm.population import file_sha256
from abm.rules import industry_demand, industry_imports
from experiments.errors import BadInput

MANIFEST = "manifest.json"
# the kinds of results directory, each written by the govsim command of the same name
KINDS: tuple[str, ...] = (
    "run",
    "compare",
    "demo",
    "sweep",
    "sensitivity",
    "case",
    "calibration",
    "robustness",
)
# the packages whose versions every manifest records
RECORDED_PACKAGES: tuple[str, ...] = (
    "govsim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "SALib",
    "joblib",
    "matplotlib",
    "pyabc",
    "dask",
)
# the code whose state the dirty flag and the code version describe
CODE_PATHS: tuple[str, ...] = ("abm", "experiments", "calibration", "pyproject.toml")
ROOT = Path(__file__).resolve().parents[1]


# --- atomic writing -------------------------------------------------------------------------


def check_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Fail early (BadInput) if ``out_dir`` is taken and may not be replaced."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInput(f"output path {out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise BadInput(
            f"output directory {out_dir} exists and is not empty; use --overwrite to replace it"
        )


def _remove_stale_siblings(target: Path) -> None:
    """Remove temporaries ``.<name>.*`` that a killed earlier write left beside ``target``."""
    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f".{target.name}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_dir(out_dir: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory; rename it to ``out_dir`` only if the block succeeds.

    On any failure the temporary directory, and the parent directories created for it, are
    removed, so an interrupted or failed command leaves no partial output. A directory that
    exists and is not empty is replaced only with ``overwrite``.
    """
    out_dir = Path(out_dir)
    check_out_dir(out_dir, overwrite)
    created = [p for p in (out_dir.parent, *out_dir.parent.parents) if not p.exists()]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield tmp
        check_out_dir(out_dir, overwrite)  # someone may have written there meanwhile
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for parent in created:  # deepest first
            try:
                parent.rmdir()
            except OSError:
                break
        raise


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling file path; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (readers never see half a file)."""
    with atomic_file(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def staged_files(out_dir: Path, names: Iterable[str]) -> Iterator[Path]:
    """Stage files for an existing directory and move them in only if the block succeeds.

    For commands that add results to a directory they keep (a resumable sweep or calibration),
    so that either all of ``names`` are replaced or none is.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".staged.*"):  # what a killed earlier write left
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=".staged.", dir=out_dir))
    try:
        yield tmp
        for name in names:
            if (tmp / name).exists():
                target = out_dir / name
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(tmp / name, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- provenance -----------------------------------------------------------------------------


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def code_version() -> str:
    """Commit of the code that ran, with ``-dirty`` if tracked or untracked code differs."""
    sha = _git("rev-parse", "--short", "HEAD")
    if not sha:
        return "unknown"
    return f"{sha}-dirty" if code_dirty() else sha


def code_dirty() -> bool:
    """Whether the model's code differs from the commit (tracked or untracked files)."""
    return bool(_git("status", "--porcelain", "--", *CODE_PATHS))


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on."""
    out = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def data_files(config: ScenarioConfig) -> tuple[Path, ...]:
    """The data files a scenario reads."""
    pop = config.population
    return (
        Path(pop.mission_cities_csv),
        Path(pop.countries_csv),
        Path(pop.grid_intensity_csv),
        Path(pop.industrial_sites_csv),
        Path(pop.announced_projects_csv),
        Path(pop.ets_sector_emissions_csv),
        Path(pop.energy_prices_csv),
        industry_demand.DRIVERS_CSV,  # module constants, not population settings
        *industry_imports.IMPORT_SHARE_FILES.values(),
    )


def data_hashes(configs: Iterable[ScenarioConfig]) -> dict[str, str]:
    """SHA-256 of every data file the given scenarios read (path -> hash)."""
    out: dict[str, str] = {}
    for config in configs:
        for path in data_files(config):
            out.setdefault(str(path), file_sha256(path))
    return out


def stable_config(config: ScenarioConfig) -> dict[str, Any]:
    """A config as data with data-file paths replaced by their SHA-256 (machine independent)."""
    out = config.as_dict()
    out["population"] = {
        key: file_sha256(Path(value)) if key.endswith("_csv") else value
        for key, value in out["population"].items()
    }
    return out


def fingerprint(payload: Any) -> str:
    """SHA-256 of a JSON-able payload (sorted keys): same inputs, same hash."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def experiment_fingerprint(configs: Sequence[ScenarioConfig], seeds: Sequence[int]) -> str:
    """SHA-256 of the configs (data by content, not path) and seeds."""
    return fingerprint({"configs": [stable_config(c) for c in configs], "seeds": list(seeds)})


def stamp(now: datetime | None = None) -> str:
    """The UTC minute used in run IDs, e.g. ``20261122T0130Z``."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%MZ")


def run_id_for(kind: str, digest: str, now: datetime | None = None) -> str:
    """``<kind>-<UTC stamp>-<first 6 of digest>``: the inputs' hash ends every run ID."""
    if kind not in KINDS:
        raise ValueError(f"unknown results kind {kind!r}; known: {', '.join(KINDS)}")
    return f"{kind}-{stamp(now)}-{digest[:6]}"


def make_run_id(
    kind: str,
    configs: Sequence[ScenarioConfig],
    seeds: Sequence[int],
    now: datetime | None = None,
) -> str:
    """The run ID of ``configs`` run with ``seeds``, e.g. ``demo-20261122T0130Z-1a2b3c``."""
    return run_id_for(kind, experiment_fingerprint(configs, seeds), now)


def provenance(configs: Iterable[ScenarioConfig] = ()) -> dict[str, Any]:
    """Code version and dirty flag, package versions and the data hashes of ``configs``."""
    return {
        "code_version": code_version(),
        "code_dirty": code_dirty(),
        "package_versions": package_versions(),
        "data_sha256": data_hashes(configs),
    }


def new_manifest(
    kind: str,
    run_id: str,
    *,
    command: str,
    reproduce: str | None = None,
    configs: Iterable[ScenarioConfig] = (),
    seeds: Sequence[int] = (),
    posterior: Mapping[str, Any] | None = None,
    created: datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A manifest with the provenance every results directory carries, then ``fields``."""
    if kind not in KINDS:
        raise ValueError(f"unknown results kind {kind!r}; known: {', '.join(KINDS)}")
    out: dict[str, Any] = {
        "kind": kind,
        "run_id": run_id,
        "created_utc": (created or datetime.now(UTC)).isoformat(timespec="seconds"),
        "command": command,
        "reproduce": reproduce if reproduce is not None else command,
        **provenance(configs),
        "seeds": [int(s) for s in seeds],
        "posterior": dict(posterior) if posterior is not None else None,
    }
    clash = sorted(set(fields) & set(out))
    if clash:
        raise ValueError(f"manifest fields {clash} are set by new_manifest itself")
    out.update(fields)
    return out


def write_manifest(directory: Path, data: Mapping[str, Any]) -> Path:
    """Write ``directory/manifest.json`` (atomically); it must have ``kind`` and ``run_id``."""
    for key in ("kind", "run_id"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValueError(f"a manifest needs a non-empty string {key!r}")
    if data["kind"] not in KINDS:
        raise ValueError(f"unknown results kind {data['kind']!r}; known: {', '.join(KINDS)}")
    return write_json(Path(directory) / MANIFEST, dict(data))


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Manifest:
    """A results directory's manifest: where it is, its data, kind and run ID."""

    path: Path
    data: dict[str, Any]
    kind: str
    run_id: str

    @property
    def directory(self) -> Path:
        """The results directory."""
        return self.path.parent


def read_manifest(results_dir: Path, kinds: Sequence[str] = KINDS) -> Manifest:
    """Read ``results_dir/manifest.json``; BadInput names the file, the key and what is allowed.

    The directory's ``kind`` is read, never guessed; ``kinds`` narrows what the caller accepts.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise BadInput(
            f"results directory {results_dir} not found; give a directory written by govsim "
            f"{', '.join(kinds)}"
        )
    path = results_dir / MANIFEST
    if not path.is_file():
        raise BadInput(f"{path} not found; every govsim results directory has a {MANIFEST}")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path} is not valid JSON ({exc}); expected a JSON object") from exc
    if not isinstance(data, dict):
        raise BadInput(
            f"{path}: expected a JSON object with a 'kind' key, found {type(data).__name__}"
        )
    kind = data.get("kind")
    if kind not in kinds:
        found = "is missing" if kind is None else f"is {json.dumps(kind, default=str)}"
        hint = (
            " (directories written before govsim recorded a kind in every manifest can be "
            "regenerated with the command in their 'command' key)"
            if kind is None
            else ""
        )
        raise BadInput(f"{path}: key 'kind' {found}; expected one of {', '.join(kinds)}{hint}")
    run_id = data.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise BadInput(f"{path}: key 'run_id' is missing or empty; expected a string")
    return Manifest(path, data, str(kind), run_id)


# --- the run directory of one simulation ----------------------------------------------------

RUN_TABLES: tuple[str, ...] = ("city_year", "installation_year", "eu_year")


def write_run(
    result: SimulationResult,
    out_dir: Path,
    *,
    overwrite: bool = False,
    command: str,
    posterior: Mapping[str, Any] | None = None,
) -> Manifest:
    """Write one simulation's three parquet tables and its manifest (kind ``run``) atomically."""
    config = result.config
    run_id = make_run_id("run", [config], [result.seed])
    info = new_manifest(
        "run",
        run_id,
        command=command,
        configs=[config],
        seeds=[result.seed],
        posterior=posterior,
        scenario=config.name,
        seed=int(result.seed),
        config=config.as_dict(),
        headline=result.headline(),
        files=[f"{name}.parquet" for name in RUN_TABLES] + [MANIFEST],
    )
    with atomic_dir(Path(out_dir), overwrite) as tmp:
        for name in RUN_TABLES:
            getattr(result, name).to_parquet(tmp / f"{name}.parquet", index=False)
        write_manifest(tmp, info)
    return Manifest(Path(out_dir) / MANIFEST, info, "run", run_id)
