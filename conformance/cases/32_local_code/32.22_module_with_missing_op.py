"""32.22 a script's module whose forward uses torch.fft: the values local nnsight gives, or (a server without the operation: MISSING) a NotImplementedError naming it and the line"""

import nnsight
import torch
from nnsight_case import RemoteError

SERVER_ONLY = True
PROMPT = "The Eiffel Tower is in the city of"


class Spectral(torch.nn.Module):
    def forward(self, x):
        return torch.fft.rfft(x, dim=-1).abs()


def run(model):
    spectral = Spectral()
    try:
        with model.trace(PROMPT, remote=True):
            s = spectral(model.transformer.h[0].output).save()
    except RemoteError as e:
        # A server may lack an operation; then it must say which, and where.
        text = str(e)
        assert "torch.fft" in text and "NotImplementedError" in text, text
        # nnsight 0.5 ships the module's bytecode, not its source: the server can name the
        # script and the line (from the code object), not show the line's text.
        line = "return torch.fft.rfft(x, dim=-1).abs()"
        where = f'File "{__file__}", line {Spectral.forward.__code__.co_firstlineno + 1}'
        assert line in text or (nnsight.__version__.startswith("0.5") and where in text), text
        # Said as it should be, but still absent: the server's refusal goes through,
        # and its NotImplementedError makes the case MISSING, not a pass.
        raise
    with model.trace(PROMPT):
        expected = spectral(model.transformer.h[0].output).save()
    assert torch.allclose(s, expected, rtol=1e-5, atol=1e-6), (s, expected)
