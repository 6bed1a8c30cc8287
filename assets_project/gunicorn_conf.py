"""gunicorn settings for `make run` and the benchmarks. Override with GUNICORN_* variables."""

import os

# Derived from the cores by default: one worker process per two cores (each holds the
# model once, and its threads share it; onnxruntime and Pillow use the cores from within
# one process), four threads each, so decoding and encoding overlap with inference.
workers = int(os.environ.get("GUNICORN_WORKERS") or max(1, (os.cpu_count() or 2) // 2))
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
# gunicorn's gthread worker, answering the requests gunicorn itself refuses (a request
# line over limit_request_line, headers over the limits below, malformed requests) in the
# API's JSON error shape instead of HTML.
worker_class = "assets_project.gunicorn_worker.JsonErrorThreadWorker"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 20
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
if os.environ.get("LOG_FORMAT") == "json":
    # One JSON object per line on every stream: the app logs each request itself
    # (assets.telemetry), so gunicorn's access log is off and its own messages are JSON.
    accesslog = None
    _json = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(levelname)s %(name)s %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
    }
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": _json},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False}},
    }
# Bodies up to the upload limit go to temporary files, not memory, past Django's threshold.
# The longest request line gunicorn allows short of 0 (unlimited, which would let one
# client make a worker buffer a line of any size): longer ones answer 414 in JSON.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# No shared control socket in ~/.gunicorn: several servers (say, a benchmark beside
# `make run`) must be able to run side by side.
control_socket_disable = True


def on_starting(server):
    """Forget the metrics of processes that are gone (core.metrics), once per server start.
    The settings module names the folder (PROMETHEUS_MULTIPROC_DIR, set before any
    worker imports prometheus-client)."""
    import assets_project.settings  # noqa: F401  (sets PROMETHEUS_MULTIPROC_DIR)
    from core.metrics import files_prune

    files_prune()


def post_fork(server, worker):
    """Fewer malloc arenas in each worker, before its threads start (assets_project.memory)."""
    from assets_project.memory import limit_arenas

    limit_arenas()


def post_request(worker, req, environ, resp):
    """Give the memory of a large request back to the system (assets_project.memory)."""
    from assets_project.memory import trim_if_large

    trim_if_large()


def post_worker_init(worker):
    """Load and run the background-removal models once per worker, before it serves."""
    from graphics.services import models_warm

    models_warm()
