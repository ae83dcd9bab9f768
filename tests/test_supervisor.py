"""`make run` keeps the network up: a service that dies is started again, with a delay that
doubles while it keeps dying, and each stop and restart is said. The clock is moved by hand."""
from processes import Supervisor


class FakeProcess:
    def __init__(self, pid):
        self.pid, self.returncode = pid, None


class FakeService:
    log_path = "data/logs/fake.log"

    def __init__(self):
        self.starts, self.process, self.alive = 0, FakeProcess(100), True

    def running(self):
        return self.alive

    def die(self):
        self.alive, self.process.returncode = False, -9

    def start(self):
        self.starts += 1
        self.alive, self.process = True, FakeProcess(100 + self.starts)
        return self


def test_a_dead_service_is_started_again_with_a_growing_delay_and_the_others_untouched():
    now = [0.0]
    said = []
    intake, reporting = FakeService(), FakeService()
    supervisor = Supervisor({"intake": intake, "reporting": reporting}, say=said.append,
                            clock=lambda: now[0])

    def at(seconds):
        now[0] = seconds
        supervisor.tick()

    intake.die()
    at(1)
    assert "intake stopped (exit code -9); starting it again in 1 s" in said[-1]
    at(1.5)
    assert intake.starts == 0           # not before its delay
    at(2)
    assert intake.starts == 1 and "intake started again (pid 101)" in said[-1]
    intake.die()
    at(3)
    assert "again in 2 s" in said[-1]   # it died again at once: twice the delay
    at(5)
    assert intake.starts == 2
    at(70)                              # up for over a minute: the delay starts from 1 s again
    intake.die()
    at(71)
    assert "again in 1 s" in said[-1]
    assert reporting.starts == 0 and reporting.running()


def test_the_delay_stops_growing_at_thirty_seconds():
    now = [0.0]
    said = []
    service = FakeService()
    supervisor = Supervisor({"diagnostic": service}, say=said.append, clock=lambda: now[0])
    for _ in range(8):
        service.die()
        supervisor.tick()
        now[0] += 31
        supervisor.tick()
    assert "again in 30 s" in said[-2] and service.starts == 8
