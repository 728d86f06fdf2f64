"""47.6 a module outside the whitelist (os, subprocess, socket) ends the job with NDIF's ImportError: Module … is not whitelisted"""

import nnsight_case as nc

SERVER_ONLY = True
PROMPT = "The Eiffel Tower is in the city of"
SPEC = "semantics.md §1.3 Three kinds of body"


def refused(name, error):
    assert f"Module {name} is not whitelisted" in str(error), str(error)
    assert "ImportError" in str(error), str(error)


def run(model):
    try:
        with model.trace(PROMPT, remote=True):
            import os
            cwd = os.getcwd()
    except nc.RemoteError as e:
        refused("os", e)
    else:
        raise AssertionError("importing os inside a trace was not refused")
    try:
        with model.trace(PROMPT, remote=True):
            from subprocess import run as sh
            sh(["true"])
    except nc.RemoteError as e:
        refused("subprocess", e)
    else:
        raise AssertionError("importing subprocess inside a trace was not refused")
    try:
        with model.trace(PROMPT, remote=True):
            import socket
            s = socket.socket()
    except nc.RemoteError as e:
        refused("socket", e)
    else:
        raise AssertionError("importing socket inside a trace was not refused")
