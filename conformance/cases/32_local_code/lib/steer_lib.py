"""A user module that the case ships by value (it is not installed on the server)."""

FACTOR = 3.0


def scale(x, factor=None):
    return x * (FACTOR if factor is None else factor)


def describe():
    return f"steer_lib with factor {FACTOR}"
