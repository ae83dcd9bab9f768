"""Work that runs outside a request: what a request starts and goes on after its answer (a long
import, say), in a thread the service's container manages, so that stopping the service stops it
too; and work on a timer.

    jobs = BackgroundJobs()
    ...
    self.jobs(functools.partial(do_the_work, ...))
"""
import nameko.timer
from nameko.extensions import DependencyProvider


class BackgroundJobs(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return self.container.spawn_managed_thread


class Timer(nameko.timer.Timer):
    """nameko's timer entrypoint, which a second stop (Ctrl-C reaching a service that its
    supervisor is stopping already) does not crash with "re-send() an already-triggered
    event"."""

    def stop(self):
        if not self.should_stop.ready():
            self.should_stop.send(True)
        self.gt.wait()


timer = Timer.decorator
