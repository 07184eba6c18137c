"""Fetches and builds (cached) the local servers' programs: Kafka's jars and patched FerretDB."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

DEPLOY_LOCAL = Path(__file__).resolve().parents[1]
REPO_ROOT = DEPLOY_LOCAL.parents[1]
KAFKA_POM = DEPLOY_LOCAL / "kafka" / "pom.xml"
FERRETDB_MODULE = DEPLOY_LOCAL / "ferretdb"


class InfraError(RuntimeError):
    """A server could not be built, started or reached; the message says what to do."""


def cache_dir() -> Path:
    """Where downloads and builds are kept between runs (RUTA_CACHE_DIR, else ~/.cache/ruta)."""
    configured = os.environ.get("RUTA_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "ruta"


def require_tool(tool: str, hint: str) -> str:
    """The path of `tool`, or a one-line error naming what to install."""
    path = shutil.which(tool)
    if path is None:
        msg = f"ruta-local: '{tool}' was not found on PATH; {hint}"
        raise InfraError(msg)
    return path


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def run_build(command: list[str], cwd: Path, log_path: Path, what: str) -> None:
    """Run a build step with its output in `log_path`; on failure, the log's end in the error."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        result = subprocess.run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        msg = (
            f"ruta-local: {what} failed (exit {result.returncode}); see {log_path}:\n"
            + "\n".join(tail)
        )
        raise InfraError(msg)


def kafka_libs() -> Path:
    """The Kafka broker's jars, fetched from Maven Central once per pom.xml version."""
    target = cache_dir() / "kafka" / _digest(KAFKA_POM) / "libs"
    if (target / ".complete").exists():
        return target
    require_tool(
        "java", "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
    )
    mvn = require_tool("mvn", "install Apache Maven (Debian: apt-get install maven)")
    staging = target.with_name(f"libs.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    run_build(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(KAFKA_POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        DEPLOY_LOCAL / "kafka",
        target.parent / "mvn.log",
        "fetching Kafka from Maven Central",
    )
    (staging / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


FERRETDB_PATCHES = FERRETDB_MODULE / "patches"
FERRETDB_PATH = "github.com/FerretDB/FerretDB"


def ferretdb_binary() -> Path:
    """FerretDB v1 built from the Go module proxy through our own module, once per go.sum.

    FerretDB's source is downloaded (and checked against go.sum) as a module, copied, patched
    with `deploy/local/ferretdb/patches/*.patch` and built through a `replace` in a copy of
    our go.mod, so the committed go.mod and go.sum stay those of the released v1.24.2.
    """
    patches = sorted(FERRETDB_PATCHES.glob("*.patch"))
    sources = [FERRETDB_MODULE / name for name in ("go.mod", "go.sum", "main.go")]
    target = cache_dir() / "ferretdb" / _digest(*sources, *patches) / "ferretdb"
    if target.exists():
        return target
    go = require_tool("go", "install Go 1.24+ (https://go.dev/doc/install or Debian's golang)")
    git = require_tool("git", "install git (it applies our patches to FerretDB's source)")
    work = target.with_name(f"build.{os.getpid()}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env_build = ["env", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0"]
    log = target.parent / "go-build.log"
    run_build(
        [*env_build, go, "mod", "download", FERRETDB_PATH],
        FERRETDB_MODULE,
        log,
        "downloading FerretDB",
    )
    listed = subprocess.run(
        [*env_build, go, "mod", "download", "-json", FERRETDB_PATH],
        cwd=FERRETDB_MODULE,
        capture_output=True,
        check=True,
        text=True,
    )
    downloaded = json.loads(listed.stdout)
    source = work / "FerretDB"
    shutil.copytree(downloaded["Dir"], source)
    for path in source.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    for patch in patches:
        run_build([git, "apply", "-p1", str(patch)], source, log, f"applying {patch.name}")
    modfile = work / "go.mod"
    modfile.write_text(
        (FERRETDB_MODULE / "go.mod").read_text() + f"\nreplace {FERRETDB_PATH} => {source}\n"
    )
    shutil.copyfile(FERRETDB_MODULE / "go.sum", work / "go.sum")
    staging = work / "ferretdb"
    run_build(
        [*env_build, go, "build", "-trimpath", f"-modfile={modfile}", "-o", str(staging), "."],
        FERRETDB_MODULE,
        log,
        "building FerretDB",
    )
    staging.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target
