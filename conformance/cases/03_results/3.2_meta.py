"""3.2 COMPLETED carries meta (runtime, max_memory_usage, max_mem_by_gpu, max_mem_pct_by_gpu) on tracer.backend.meta"""

SERVER_ONLY = True
NOT_FOR = {"0.5": "nnsight 0.5-0.7 have no ResponseModel.meta", "0.7": "nnsight 0.5-0.7 have no ResponseModel.meta"}


def run(model):
    with model.trace("The Eiffel Tower is in the city of", remote=True) as tracer:
        hidden = model.transformer.h[0].output.save()
    meta = tracer.backend.meta
    assert isinstance(meta, dict), meta
    missing = {"runtime", "max_memory_usage", "max_mem_by_gpu", "max_mem_pct_by_gpu"} - set(meta)
    assert not missing, f"meta lacks {missing}: {meta}"
    assert 0 < meta["runtime"] < 120, meta
    # The job held at least the activation it saved.
    assert meta["max_memory_usage"] >= hidden.numel() * hidden.element_size(), meta
    for key in ("max_mem_by_gpu", "max_mem_pct_by_gpu"):
        assert isinstance(meta[key], dict), meta
    assert all(0 <= p <= 100 for p in meta["max_mem_pct_by_gpu"].values()), meta
