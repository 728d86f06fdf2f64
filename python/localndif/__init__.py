"""localndif from Python: the `localndif` server binary this wheel installs, started and
stopped for you.

    import localndif
    with localndif.serve() as url:          # models={"org/name": "/path/to/model_dir"}
        ...                                 # nnsight's remote=True runs go to url

`serve()` starts `localndif serve` on a free port, waits until its models are loaded,
points this process's nnsight (`NDIF_HOST`, `CONFIG.API.HOST`) and Hugging Face Hub
client (`HF_ENDPOINT`) at it, and undoes all of that and stops the server when the block
ends. `Server` is the process alone; `configure(url)` the pointing alone. The pytest
plugin (`localndif.pytest_plugin`) offers the same as the fixtures `localndif_server`
and `localndif_url`.
"""

from ._server import Server, ServerError, binary, configure, serve

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("localndif")
except PackageNotFoundError:  # imported from a checkout
    __version__ = "0+unknown"

__all__ = ["Server", "ServerError", "binary", "configure", "serve", "__version__"]
