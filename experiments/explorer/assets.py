"""The browser assets of the explorer page, cached once from the npm registry for offline use.

Solara's page loads its JavaScript and CSS (the Vuetify app, RequireJS, Font Awesome) through
the server's own CDN proxy, which keeps every file it fetched in
``solara.server.settings.assets.proxy_cache_dir``. On a machine without internet access the
proxy cannot fetch them and the page stays blank. The same packages are on the npm registry,
so :func:`ensure_assets` fills the cache with ``npm pack``; with the files in place the server
never fetches anything. Run ``python -m experiments.explorer.assets`` to fill the cache by hand.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from experiments.errors import BadInput
from experiments.results import atomic_dir

# ``{{cdn}}/@scope/name@1.2.3/...`` or ``{{cdn}}/name@1.2.3/...`` in solara's page template
_CDN_SPEC = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+@\d[\w.+-]*)/")
_PATH_SPEC = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+@\d[\w.+-]*)/")
VUE2_APP = "@widgetti/solara-vuetify-app@"
VUE3_APP = "@widgetti/solara-vuetify3-app@"
NPM_TIMEOUT_S = 300


def cache_dir() -> Path:
    """Where solara's CDN proxy looks for (and caches) its browser assets."""
    import solara.server.settings

    return Path(solara.server.settings.assets.proxy_cache_dir)


def required_packages() -> list[str]:
    """The npm packages (``name@version``) the page template of the installed solara loads."""
    import solara.server.server
    import solara.server.settings

    template = Path(solara.server.server.directory) / "templates" / "solara.html.j2"
    specs = set(_CDN_SPEC.findall(template.read_text(encoding="utf-8")))
    fontawesome = _PATH_SPEC.match(solara.server.settings.assets.fontawesome_path)
    if fontawesome:
        specs.add(fontawesome.group(1))
    unused = VUE2_APP if solara.server.server.vue3 else VUE3_APP
    return sorted(spec for spec in specs if not spec.startswith(unused))


def missing_packages(specs: list[str], directory: Path) -> list[str]:
    """The packages of ``specs`` that have no folder in ``directory`` yet."""
    return [spec for spec in specs if not (directory / spec).is_dir()]


def unpack(tarball: Path, target: Path) -> None:
    """Unpack an npm tarball (files under ``package/``) into ``target``, all or nothing.

    An earlier copy of the package in ``target`` is replaced.
    """
    with atomic_dir(target, overwrite=True) as staging, tarfile.open(tarball, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            head, _, rest = member.name.partition("/")
            if head != "package" or not rest:
                continue
            member.name = rest
            members.append(member)
        archive.extractall(staging, members=members, filter="data")


def fetch_packages(specs: list[str], directory: Path, npm: str = "npm") -> None:
    """Download each package with ``npm pack`` and unpack it into ``directory/<spec>``."""
    executable = shutil.which(npm)
    if executable is None:
        raise BadInput(
            f"the explorer page needs {', '.join(specs)} in {directory}, and npm, which "
            "fetches them, is not installed (install Node.js and npm, or run once with "
            "internet access so that solara's CDN proxy caches them)"
        )
    with tempfile.TemporaryDirectory(prefix="govsim-assets-") as tmp:
        for spec in specs:
            done = subprocess.run(
                [executable, "pack", "--silent", "--pack-destination", tmp, spec],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
            names = [line for line in done.stdout.split() if line.endswith(".tgz")]
            if done.returncode != 0 or not names:
                raise BadInput(f"npm pack {spec} failed: {done.stderr.strip()[-500:]}")
            unpack(Path(tmp) / names[-1], directory / spec)


def ensure_assets(directory: Path | None = None) -> list[str]:
    """Fill the asset cache with the packages it lacks; returns the packages fetched."""
    directory = cache_dir() if directory is None else directory
    missing = missing_packages(required_packages(), directory)
    if missing:
        fetch_packages(missing, directory)
    return missing


def main() -> int:
    """``python -m experiments.explorer.assets``: fill the cache, say what was done."""
    try:
        fetched = ensure_assets()
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = cache_dir()
    print(f"fetched {', '.join(fetched)} into {where}" if fetched else f"assets in {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
