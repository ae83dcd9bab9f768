"""The relay's publish frames are byte for byte what py-amqp writes for the same message."""
import amqp
import pytest
from amqp import spec
from amqp.method_framing import frame_writer
from amqp.serialization import dumps

from parcours_shared.publish_frames import PublishFrames


class Recorder:
    def __init__(self, frame_max):
        self.frame_max = frame_max
        self.bytes_sent = 0
        self.written = []

    def write(self, data):
        self.written.append(bytes(data))


def py_amqp_bytes(frame_max, channel_id, exchange, routing_key, body, **properties):
    recorder = Recorder(frame_max)
    write = frame_writer(recorder, recorder)
    message = amqp.Message(body, **properties)
    write(1, channel_id, spec.Basic.Publish,
          dumps("Bssbb", (0, exchange, routing_key, False, False)), message)
    return b"".join(recorder.written)


@pytest.mark.parametrize("body_size, frame_max", [(500, 131072), (0, 131072), (10000, 4096)])
@pytest.mark.parametrize("user_id", [None, "intake"])
def test_frames_match_py_amqp(body_size, frame_max, user_id):
    body = ("é" * (body_size // 2)).encode("utf-8")
    properties = dict(content_type="application/json", content_encoding="utf-8",
                      delivery_mode=2, app_id="intake", message_id="0b8e5c4a-7f1d",
                      timestamp=1767225600, type="case.opened")
    if user_id:
        properties["user_id"] = user_id
    frames = PublishFrames(3, frame_max, "application/json", "utf-8", 2, app_id="intake",
                           user_id=user_id)
    ours = frames.message("intake.events", "case.opened", body, "0b8e5c4a-7f1d", 1767225600,
                          "case.opened")
    assert ours == py_amqp_bytes(frame_max, 3, "intake.events", "case.opened", body,
                                 **properties)


def test_a_short_string_longer_than_255_bytes_is_refused():
    frames = PublishFrames(1, 131072, "application/json", "utf-8", 2)
    with pytest.raises(ValueError, match="255 bytes"):
        frames.message("intake.events", "x" * 256, b"{}", "id", 0, "t")
