# localndif as a container: the Makefile's own build (the pinned torch wheel provides
# libtorch; `make build` compiles the release binary), then a slim image with the binary
# and libtorch's shared libraries only — no Python at run time.
#
#   docker build -t localndif .
#   docker run -p 8001:8001 localndif                      # the embedded tiny models
#   docker compose up                                       # see docker-compose.yml
#
# CUDA: build FROM an nvidia/cuda *-devel image with a CUDA torch pinned in
# python/requirements.txt, run the runtime stage FROM the matching *-runtime image, and
# pass `--device cuda` (LOCALNDIF_DEVICE=cuda) with `--gpus all`.

FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Plain .venv and target/ in the build tree (no cache symlinks), then the README's build.
RUN make build LOCALNDIF_CACHE= JOBS=$(nproc) \
    && mkdir -p /out/lib \
    && cp target/release/localndif /out/ \
    && cp -L .venv/lib/python3.11/site-packages/torch/lib/*.so* /out/lib/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl libgomp1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/lib /opt/libtorch/lib
COPY --from=build /out/localndif /usr/local/bin/localndif
ENV LD_LIBRARY_PATH=/opt/libtorch/lib \
    LOCALNDIF_HOST=0.0.0.0 \
    LOCALNDIF_PORT=8001
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8001/health || exit 1
# SIGTERM drains: queued jobs end with an ERROR, running ones get --drain-timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["localndif", "serve"]
