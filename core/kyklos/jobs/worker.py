"""``kyklos worker INI``: a huey consumer plus the sweeper that recovers lost jobs."""

from __future__ import annotations

import logging
import threading
import time

from kyklos.errors import ConfigError
from kyklos.jobs.backend import get_huey
from kyklos.jobs.runner import _seconds, pending_due, run_every, sweep

log = logging.getLogger("kyklos.jobs.worker")


class Housekeeper(threading.Thread):
    """Now and every ``kyklos.jobs.sweep_seconds``: recover lost jobs
    (:func:`~kyklos.jobs.runner.sweep`); as often as the shortest ``every=`` job needs:
    create the ``every=`` jobs that are due."""

    def __init__(self, registry, stop: threading.Event):
        super().__init__(name="kyklos-housekeeper", daemon=True)
        self.registry = registry
        self.stop_event = stop
        self.sweep_interval = _seconds(registry.settings, "kyklos.jobs.sweep_seconds", 30)
        everies = [s.every for s in registry.kyklos_jobs.values() if s.every]
        self.interval = min([self.sweep_interval, *everies])

    def run(self):
        last_sweep = 0.0
        while True:
            now = time.monotonic()
            try:
                if now - last_sweep >= self.sweep_interval:
                    sweep(self.registry)
                    last_sweep = now
                run_every(self.registry)
            except Exception:  # noqa: BLE001 - a database hiccup must not stop housekeeping
                log.exception("housekeeping failed")
            if self.stop_event.wait(self.interval):
                return


class Worker:
    """Consume the application's queue.

    :param workers: threads (or processes) running jobs; default ``kyklos.jobs.workers``
    :param worker_type: ``thread`` or ``process``; default ``kyklos.jobs.worker_type``
    :param install_signals: False when run inside another program (embedded worker)
    """

    def __init__(self, registry, workers=None, worker_type=None, install_signals=True):
        settings = registry.settings
        self.registry = registry
        self.workers = int(workers or settings.get("kyklos.jobs.workers") or 2)
        self.worker_type = worker_type or settings.get("kyklos.jobs.worker_type") or "thread"
        if self.worker_type not in ("thread", "process"):
            raise ConfigError("kyklos.jobs.worker_type must be 'thread' or 'process'")
        self.install_signals = install_signals
        self.stop_event = threading.Event()
        self.consumer = None

    def _huey(self):
        huey = get_huey(self.registry)
        if huey.immediate:
            raise ConfigError(
                "kyklos.jobs.backend = immediate runs jobs in the web process; "
                "a worker needs 'sqlite' or 'redis'"
            )
        engine = self.registry["dbengine"]

        def fresh_pool():
            # A forked worker must not share the parent's database connections.
            engine.dispose(close=False)

        huey.on_startup("kyklos-fresh-pool")(fresh_pool)
        return huey

    def run(self):
        """Run in the foreground until SIGINT/SIGTERM (or :meth:`stop`)."""
        huey = self._huey()
        self.consumer = huey.create_consumer(
            workers=self.workers,
            worker_type=self.worker_type,
            periodic=True,
            check_worker_health=True,
        )
        Housekeeper(self.registry, self.stop_event).start()
        try:
            if self.install_signals:
                self.consumer.run()
            else:
                # Consumer.start() installs signal handlers, which only the main thread
                # may do; start its threads directly instead.
                self.consumer.scheduler.start()
                for _w, proc in self.consumer.worker_threads:
                    proc.start()
                self.stop_event.wait()
                self.consumer.stop(graceful=True)
        finally:
            self.stop_event.set()

    def stop(self):
        self.stop_event.set()

    def burst(self, max_seconds: float = 3600) -> int:
        """Run every job that is due now, then return how many queue messages ran."""
        huey = self._huey()
        sweep(self.registry, requeue_after=0)
        run_every(self.registry)
        ran = 0
        deadline = time.monotonic() + max_seconds
        idle_rounds = 0
        while time.monotonic() < deadline:
            task = huey.dequeue()
            if task is None:
                due = huey.read_schedule()
                for t in due:
                    huey.enqueue(t)
                if due:
                    continue
                if pending_due(self.registry) == 0:
                    break
                # Due jobs the queue does not hold (lost, or held by a dead worker).
                idle_rounds += 1
                sweep(self.registry, requeue_after=0)
                time.sleep(min(1.0, 0.1 * idle_rounds))
                continue
            idle_rounds = 0
            huey.execute(task)
            ran += 1
        return ran
