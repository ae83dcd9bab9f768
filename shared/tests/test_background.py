"""The timer entrypoint survives a second stop (Ctrl-C reaching a service its supervisor is
stopping already), which nameko's own answers with an AssertionError."""
from parcours_shared.background import Timer, timer


class Ticking:
    name = "ticking"

    @timer(interval=60)
    def tick(self):
        pass


def test_a_timer_stopped_twice_stops_once(container_factory, rabbit_config):
    container = container_factory(Ticking, rabbit_config)
    container.start()
    [entrypoint] = [e for e in container.entrypoints if isinstance(e, Timer)]
    entrypoint.stop()
    entrypoint.stop()
    assert entrypoint.gt.dead
