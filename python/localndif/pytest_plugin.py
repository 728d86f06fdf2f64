"""pytest plugin (entry point `pytest11`): a localndif server for the test session.

    def test_remote_trace(localndif_server):      # or localndif_url: its URL
        model = LanguageModel("localndif/tiny-gpt2", tokenizer="localndif/tiny-gpt2")
        with model.trace("Hello", remote=True):
            hidden = model.transformer.h[0].output.save()

The server starts the first time a test asks for it (session scope), on a port the OS
picks, and serves the models of `--localndif-model REPO=DIR` (repeatable; or the
`localndif_models` ini option, one `REPO=DIR` a line, relative to the ini file) or else
the tiny models embedded in the binary. `--localndif-arg` (repeatable, split like a shell
line) and the `localndif_args` ini option pass further `localndif serve` flags. For the
session, `NDIF_HOST`, `HF_ENDPOINT` and nnsight's `CONFIG.API.HOST` point at it, and the
Hub cache is a session temporary directory (`localndif.configure`). A failing test's
report carries what the server logged during it; a server that stops on its own fails
the session's last teardown with its log.

Under pytest-xdist every worker is its own session: each starts its own server (one per
worker, each on its own port, each loading the models) and points only its own process
at it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import List, Optional

import pytest

from ._server import Server, ServerError, _tail, binary, configure

_SERVER = pytest.StashKey[Server]()
_LOG_OFFSET = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("localndif", "localndif: a local NDIF server for nnsight tests")
    group.addoption(
        "--localndif-model",
        action="append",
        default=[],
        metavar="REPO=DIR",
        help="serve the model directory DIR as REPO (repeatable; REPO=replica:DIR for a "
        "replica); replaces the localndif_models ini option. Default: the embedded tiny models.",
    )
    group.addoption(
        "--localndif-arg",
        action="append",
        default=[],
        metavar="ARGS",
        help="further `localndif serve` flags, split like a shell line "
        "(repeatable: --localndif-arg='--workers 2')",
    )
    parser.addini(
        "localndif_models",
        type="linelist",
        default=[],
        help="models for the localndif server, one REPO=DIR a line (DIR relative to the ini file)",
    )
    parser.addini("localndif_args", type="args", default=[], help="further `localndif serve` flags")


def _models(config: pytest.Config) -> List[str]:
    given = config.getoption("localndif_model")
    if given:
        return list(given)
    base = Path(config.inipath).parent if config.inipath else Path(config.rootpath)
    models = []
    for line in config.getini("localndif_models"):
        repo, sep, where = (part.strip() for part in line.partition("="))
        if not sep or not repo or not where:
            raise pytest.UsageError(f"localndif_models: {line!r} is not REPO=DIR")
        prefix = "replica:" if where.startswith("replica:") else ""
        path = Path(where[len(prefix):])
        models.append(f"{repo}={prefix}{path if path.is_absolute() else base / path}")
    return models


def _args(config: pytest.Config) -> List[str]:
    args = list(config.getini("localndif_args"))
    for value in config.getoption("localndif_arg"):
        args += shlex.split(value)
    return args


def pytest_report_header(config: pytest.Config) -> Optional[str]:
    try:
        return f"localndif: {binary()}"
    except ServerError:
        return "localndif: the localndif executable was not found"


@pytest.fixture(scope="session")
def localndif_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A running `localndif serve` (a `localndif.Server`; `.url` is its address) for the
    session, with this process's nnsight and Hub client pointed at it."""
    config = request.config
    work = tmp_path_factory.mktemp("localndif")
    server = Server(_models(config), _args(config), log_path=work / "server.log")
    failed = None
    try:
        server.start()
    except ServerError as e:
        failed = str(e)
    if failed is not None:
        pytest.fail(failed, pytrace=False)
    config.stash[_SERVER] = server
    restore = configure(server.url, hub_cache=work / "hub-cache")
    try:
        yield server
    finally:
        restore()
        crashed = server.stopped_on_its_own()
        status = server.stop()
    if crashed:
        pytest.fail(
            f"the localndif server stopped during the session (exit status {status}); "
            f"log ({server.log_path}), last lines:\n{_tail(server.log(), 200)}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def localndif_url(localndif_server: Server) -> str:
    """The session's localndif server's URL (`http://127.0.0.1:PORT`)."""
    return localndif_server.url


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    server = item.config.stash.get(_SERVER, None)
    item.stash[_LOG_OFFSET] = server.log_size() if server is not None else 0
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or "localndif_server" not in getattr(item, "fixturenames", ()):
        return
    server = item.config.stash.get(_SERVER, None)
    if server is None:
        return
    text = server.log(item.stash.get(_LOG_OFFSET, 0))
    if text.strip():
        report.sections.append(("localndif server log", _tail(text, 200)))
