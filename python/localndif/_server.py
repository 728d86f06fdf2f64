"""Starting and stopping a `localndif serve` process, and pointing this process's nnsight
and Hugging Face Hub clients at it: what `localndif.serve()` and the pytest plugin share.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

__all__ = ["Server", "ServerError", "binary", "configure", "serve"]

Models = Union[Mapping[str, Union[str, "os.PathLike[str]"]], Iterable[str], None]

_LISTENING = "localndif listening on "


class ServerError(RuntimeError):
    """The server did not start, or stopped on its own; the message ends with its log."""


def binary() -> str:
    """The `localndif` executable this package was installed with.

    `LOCALNDIF_BIN` wins (a build from a checkout, say); then the `localndif` script of
    this distribution as pip recorded it; then this environment's scripts directory;
    then PATH.
    """
    override = os.environ.get("LOCALNDIF_BIN")
    if override:
        return override
    try:
        dist = distribution("localndif")
        for f in dist.files or ():
            if f.name == "localndif" and f.parent.name in ("bin", "scripts"):
                path = Path(dist.locate_file(f)).resolve()
                if path.is_file():
                    return str(path)
    except PackageNotFoundError:
        pass
    for scheme in (None, f"{os.name}_user"):
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidate = Path(scripts) / "localndif"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("localndif")
    if found:
        return found
    raise ServerError(
        "the localndif executable was not found: install the localndif wheel into this "
        "environment (pip install localndif) or set LOCALNDIF_BIN"
    )


def _model_args(models: Models) -> list[str]:
    if not models:
        return []
    if isinstance(models, Mapping):
        items = [f"{repo}={os.fspath(path)}" for repo, path in models.items()]
    elif isinstance(models, str):
        items = [models]
    else:
        items = list(models)
    args = []
    for item in items:
        if "=" not in item:
            raise ValueError(f"a model is REPO_ID=DIR (or REPO_ID=replica:DIR), not {item!r}")
        args += ["--model", item]
    return args


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


class Server:
    """One `localndif serve` child process on a port the OS picks.

    `models` maps repo ids to model directories (`save_pretrained` output, or
    `"replica:DIR"`); none serves the tiny models embedded in the binary
    (`localndif/tiny-gpt2`, `localndif/tiny-llama`). `args` are further
    `localndif serve` flags (`["--workers", "2"]`). The server's stdout and stderr go to
    `log_path` (a temporary file unless given).
    """

    def __init__(
        self,
        models: Models = None,
        args: Sequence[str] = (),
        *,
        host: str = "127.0.0.1",
        executable: Optional[str] = None,
        log_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        startup_timeout: float = 120.0,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.command = [
            executable or binary(),
            "serve",
            "--host",
            host,
            "--port",
            "0",
            *_model_args(models),
            *args,
        ]
        self.startup_timeout = startup_timeout
        self.env = dict(env) if env is not None else None
        self._own_log = log_path is None
        self.log_path = Path(log_path) if log_path is not None else None
        self.process: Optional[subprocess.Popen] = None
        self.url: Optional[str] = None
        self.returncode: Optional[int] = None
        self._stopping = False

    # -- the log ---------------------------------------------------------------------

    def log(self, start: int = 0) -> str:
        """The server's output so far, from byte offset `start`."""
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size if self.log_path else 0
        except FileNotFoundError:
            return 0

    def _error(self, what: str) -> ServerError:
        text = self.log()
        hint = ""
        if "libtorch" in text and ("cannot open shared object" in text or "error while loading" in text):
            hint = (
                "\nThe binary finds libtorch in the torch package of the environment it is "
                "installed in (<env>/lib/pythonX.Y/site-packages/torch/lib): install "
                "torch==2.13.0 into the same environment as localndif."
            )
        return ServerError(
            f"{what}\ncommand: {' '.join(self.command)}\nlog ({self.log_path}), last lines:\n"
            f"{_tail(text)}{hint}"
        )

    # -- start and stop ---------------------------------------------------------------

    def start(self) -> str:
        """Starts the server and waits until `/ready` says its models are loaded; its URL."""
        if self.process is not None:
            raise ServerError("this Server was already started")
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="localndif-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("NO_COLOR", "1")  # a log file, not a terminal
        try:
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    self.command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    preexec_fn=_die_with_parent if _can_die_with_parent() else None,
                )
        except OSError as e:
            raise ServerError(f"could not run {self.command[0]}: {e}") from e
        deadline = time.monotonic() + self.startup_timeout
        try:
            self.url = self._wait_listening(deadline)
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _wait_listening(self, deadline: float) -> str:
        while True:
            for line in self.log().splitlines():
                if line.startswith(_LISTENING):
                    return line[len(_LISTENING):].strip()
            self._check_alive("localndif exited before listening")
            if time.monotonic() > deadline:
                raise self._error(f"localndif did not start listening within {self.startup_timeout:.0f} s")
            time.sleep(0.02)

    def _wait_ready(self, deadline: float) -> None:
        last = ""
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/ready", timeout=5) as r:
                    if json.loads(r.read() or b"{}").get("ready"):
                        return
            except urllib.error.HTTPError as e:
                last = f"/ready answered {e.code}"
            except (OSError, ValueError) as e:
                last = f"/ready: {e}"
            self._check_alive("localndif exited before it was ready")
            if time.monotonic() > deadline:
                raise self._error(f"localndif was not ready within {self.startup_timeout:.0f} s ({last})")
            time.sleep(0.05)

    def _check_alive(self, what: str) -> None:
        if self.process is not None and self.process.poll() is not None:
            self.returncode = self.process.returncode
            raise self._error(f"{what} (exit status {self.returncode})")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> Optional[int]:
        """SIGTERM (the server drains: queued jobs end with an error, running ones may
        finish), then SIGKILL after `timeout` seconds. Its exit status."""
        p = self.process
        if p is None:
            return None
        if p.poll() is None:
            self._stopping = True
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.returncode = p.returncode
        return self.returncode

    def stopped_on_its_own(self) -> bool:
        """True if the process ended without being asked to (a crash, say)."""
        return self.process is not None and self.process.poll() is not None and not self._stopping

    def remove_log(self) -> None:
        if self._own_log and self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> "Server":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None


# Resolved here, not in the forked child (a dlopen there could meet a lock another
# thread held at the fork).
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _can_die_with_parent() -> bool:
    # PR_SET_PDEATHSIG fires when the *thread* that forked ends: only the main thread's
    # servers use it (a notebook's cells and pytest's fixtures run there).
    return _PRCTL is not None and threading.current_thread() is threading.main_thread()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the Python process dies, even by SIGKILL, so
    no server outlives a killed test run."""
    _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


# -- pointing this process at a server -------------------------------------------------

_UNSET = object()


def configure(url: str, hub_cache: Union[str, "os.PathLike[str]", None, bool] = None) -> Callable[[], None]:
    """Points nnsight and the Hugging Face Hub client of *this* process at `url`; returns
    a function that undoes it.

    Sets `NDIF_HOST` and `HF_ENDPOINT` (read by nnsight and huggingface_hub when they are
    imported) and, as they may be imported already, nnsight's `CONFIG.API.HOST` and
    huggingface_hub's endpoint constants; an API key (`NDIF_API_KEY`, which nnsight 0.7
    wants) if none is set. `hub_cache` is where the weights a `remote=False` run fetches
    from the server are kept: a directory, `None` for a fresh temporary one (removed by
    the returned function) or `False` to use the usual Hub cache — which would then hold
    the server's files under the repo ids it serves (a replica's under the real model's
    name).
    """
    undo: list[Callable[[], None]] = []

    def set_env(name: str, value: str) -> None:
        old = os.environ.get(name)
        os.environ[name] = value

        def restore() -> None:
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old

        undo.append(restore)

    def set_attr(obj: object, name: str, value: object) -> None:
        old = getattr(obj, name, _UNSET)
        setattr(obj, name, value)

        def restore() -> None:
            if old is _UNSET:
                with contextlib.suppress(AttributeError):
                    delattr(obj, name)
            else:
                setattr(obj, name, old)

        undo.append(restore)

    url = url.rstrip("/")
    set_env("NDIF_HOST", url)
    set_env("HF_ENDPOINT", url)
    if not os.environ.get("NDIF_API_KEY"):
        set_env("NDIF_API_KEY", "localndif")
    cache_dir: Optional[str] = None
    if hub_cache is None:
        cache_dir = tempfile.mkdtemp(prefix="localndif-hub-")
        undo.append(lambda: shutil.rmtree(cache_dir, ignore_errors=True))
    elif hub_cache is not False and hub_cache is not True:
        cache_dir = os.fspath(hub_cache)
    if cache_dir is not None:
        set_env("HF_HUB_CACHE", cache_dir)

    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        set_attr(constants, "ENDPOINT", url)
        set_attr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
        hosts = getattr(constants, "HF_URL_HOSTS", None)
        if isinstance(hosts, frozenset):
            from urllib.parse import urlsplit

            host = urlsplit(url).hostname
            if host:
                set_attr(constants, "HF_URL_HOSTS", hosts | {host})
        if cache_dir is not None:
            set_attr(constants, "HF_HUB_CACHE", cache_dir)
    if "nnsight" in sys.modules:
        try:
            from nnsight import CONFIG

            set_attr(CONFIG.API, "HOST", url)
            if not getattr(CONFIG.API, "APIKEY", None):
                set_attr(CONFIG.API, "APIKEY", os.environ["NDIF_API_KEY"])
        except (ImportError, AttributeError):
            pass

    def restore_all() -> None:
        while undo:
            undo.pop()()

    return restore_all


@contextlib.contextmanager
def serve(
    models: Models = None,
    args: Sequence[str] = (),
    *,
    configure_clients: bool = True,
    hub_cache: Union[str, "os.PathLike[str]", None, bool] = None,
    **server_options,
) -> Iterator[str]:
    """`with localndif.serve() as url:` — a server for the block, its URL bound to `url`.

    `models` is `{"repo/id": "/path/to/model_dir", ...}` (none: the embedded tiny
    models), `args` further `localndif serve` flags. Inside the block nnsight and the Hub
    client of this process use the server (`configure_clients=False` leaves them alone;
    `hub_cache` as in `configure`). If the block raises, the exception gets a note naming
    the server's log, which is kept; otherwise the log is removed.
    """
    server = Server(models, args, **server_options)
    server.start()
    restore = configure(server.url, hub_cache) if configure_clients else (lambda: None)
    failed = False
    try:
        yield server.url
    except BaseException as e:
        failed = True
        if server.stopped_on_its_own() and hasattr(e, "add_note"):
            e.add_note(f"the localndif server had stopped (exit status {server.process.returncode})")
        if hasattr(e, "add_note"):
            e.add_note(f"localndif server log: {server.log_path}")
        raise
    finally:
        restore()
        server.stop()
        if not failed:
            server.remove_log()
