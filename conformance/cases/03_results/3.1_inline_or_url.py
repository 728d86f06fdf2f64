"""3.1 a result up to 8 MiB arrives inside the COMPLETED message, a larger one by URL"""

SERVER_ONLY = True
NOT_FOR = {"0.5": "nnsight 0.5-0.7 always download the result from the URL in COMPLETED", "0.7": "nnsight 0.5-0.7 always download the result from the URL in COMPLETED"}

# The server's default --inline-result-max.
THRESHOLD = 8 << 20


def run(model):
    import torch
    from nnsight import CONFIG
    from nnsight.intervention.backends.remote import RemoteBackend

    seen = []
    original = RemoteBackend.download_result

    def recording(self, data):
        seen.append(type(data).__name__)
        return original(self, data)

    compress = CONFIG.API.COMPRESS
    # Uncompressed, the blob is torch.save's bytes: a tensor of n int32 plus ~1 KiB.
    CONFIG.API.COMPRESS = False
    RemoteBackend.download_result = recording
    try:
        for n in ((THRESHOLD - (64 << 10)) // 4, (THRESHOLD + (64 << 10)) // 4):
            with model.trace("The Eiffel Tower", remote=True):
                x = torch.ones(n, dtype=torch.int32).save()
            assert x.numel() == n and int(x.sum()) == n, x.shape
    finally:
        RemoteBackend.download_result = original
        CONFIG.API.COMPRESS = compress
    assert seen == ["bytes", "str"], seen
