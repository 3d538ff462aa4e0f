# The image of batch-ocr's Dask scheduler and workers (docs/cluster.md, "The same
# version on every machine"): the very wheel the driver was installed from, with the
# local and dask extras, so every machine runs the same version. Build the wheel, then
# the image from the folder the wheel is in (it must hold one batch_ocr wheel):
#
#   python -m build                                  # dist/batch_ocr-0.1.0-py3-none-any.whl
#   docker build -f docs/worker.Dockerfile -t registry.example/batch-ocr:0.1.0 dist/
#
# Nothing is downloaded at run time: the offline engine's models are inside the wheels
# pip installs here.
FROM python:3.11-slim

COPY batch_ocr-*.whl /tmp/wheels/
# The Dask Helm chart starts its pods with the commands dask-scheduler and dask-worker,
# which current Dask no longer installs (it has "dask scheduler" and "dask worker"):
# two one-line scripts give them back.
RUN set -eu; \
    wheels=$(ls /tmp/wheels/batch_ocr-*.whl); \
    if [ "$(printf '%s\n' "$wheels" | wc -l)" -ne 1 ]; then \
        echo "the build folder must hold exactly one batch_ocr wheel" >&2; exit 1; \
    fi; \
    pip install --no-cache-dir "${wheels}[local,dask]"; \
    rm -r /tmp/wheels; \
    printf '#!/bin/sh\nexec dask scheduler "$@"\n' > /usr/local/bin/dask-scheduler; \
    printf '#!/bin/sh\nexec dask worker "$@"\n' > /usr/local/bin/dask-worker; \
    chmod 755 /usr/local/bin/dask-scheduler /usr/local/bin/dask-worker; \
    useradd --create-home --uid 10001 ocr

# One thread per worker process: the engine runs its models on one thread (docs/cluster.md).
ENV OMP_NUM_THREADS=1
USER ocr
WORKDIR /home/ocr
EXPOSE 8786 8787
# Without the chart: docker run IMAGE dask worker tcp://scheduler:8786 --nthreads 1
CMD ["dask", "worker", "--help"]
