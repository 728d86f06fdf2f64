"""46.11 a numpy function localndif lacks: the values local numpy gives, or NotImplementedError naming it and the line"""

import nnsight
import numpy as np
import torch
from nnsight_case import RemoteError

SERVER_ONLY = True
PROMPT = "The Eiffel Tower is in the city of"


def run(model):
    try:
        with model.trace(PROMPT, remote=True):
            a = np.array([1.0, 2.0, 3.0])
            spectrum = nnsight.save(np.fft.rfft(a))
    except RemoteError as e:
        text = str(e)
        assert "NotImplementedError" in text and "numpy.fft" in text, text
        assert "spectrum = nnsight.save(np.fft.rfft(a))" in text, text
        return
    expected = np.fft.rfft(np.array([1.0, 2.0, 3.0]))
    assert np.allclose(spectrum, expected), (spectrum, expected)
