"""The AMQP 0-9-1 frames of a ``basic.publish``, built with ``struct`` for the outbox relay.

py-amqp serialises every message's method arguments and properties with its generic encoders
(a format string read field by field), which took most of the relay's CPU: more than the
database work, and more than the broker's confirms. The relay's messages all have the same
shape: the same property flags, most values the same for a whole run, the method arguments the
same for each routing key. So the constant parts are encoded once and a message costs a few
concatenations. ``tests`` compare these bytes with py-amqp's own for the same message.
"""
import struct

BASIC_CLASS = 60
BASIC_PUBLISH = (BASIC_CLASS, 40)
FRAME_METHOD, FRAME_HEADER, FRAME_BODY = 1, 2, 3
FRAME_END = b"\xce"
FRAME_OVERHEAD = 8  # type (1), channel (2), size (4), frame end (1)

# The property flags of AMQP's basic class, in the order the property list follows them.
PROPERTY_BITS = {
    "content_type": 15, "content_encoding": 14, "application_headers": 13,
    "delivery_mode": 12, "priority": 11, "correlation_id": 10, "reply_to": 9,
    "expiration": 8, "message_id": 7, "timestamp": 6, "type": 5, "user_id": 4, "app_id": 3,
    "cluster_id": 2,
}


def shortstr(value):
    encoded = value.encode("utf-8") if isinstance(value, str) else value
    if len(encoded) > 255:
        raise ValueError("an AMQP short string holds 255 bytes at most: {!r}".format(value))
    return struct.pack(">B", len(encoded)) + encoded


def _frame(frame_type, channel_id, payload):
    return struct.pack(">BHI", frame_type, channel_id, len(payload)) + payload + FRAME_END


class PublishFrames:
    """Frames for publishing on one channel messages that carry ``content_type``,
    ``content_encoding``, ``delivery_mode``, ``message_id``, ``timestamp``, ``type``, and
    optionally ``user_id`` and ``app_id`` (fixed for the whole run)."""

    def __init__(self, channel_id, frame_max, content_type, content_encoding, delivery_mode,
                 app_id=None, user_id=None):
        self.channel_id = channel_id
        self.body_chunk = frame_max - FRAME_OVERHEAD
        names = ["content_type", "content_encoding", "delivery_mode", "message_id",
                 "timestamp", "type"]
        if user_id is not None:
            names.append("user_id")
        if app_id is not None:
            names.append("app_id")
        flags = 0
        for name in names:
            flags |= 1 << PROPERTY_BITS[name]
        self._flags = struct.pack(">H", flags)
        self._before_message_id = (shortstr(content_type) + shortstr(content_encoding)
                                   + struct.pack(">B", delivery_mode))
        self._after_type = ((shortstr(user_id) if user_id is not None else b"")
                            + (shortstr(app_id) if app_id is not None else b""))
        self._methods = {}  # (exchange, routing_key) -> the method frame

    def _method_frame(self, exchange, routing_key):
        key = (exchange, routing_key)
        frame = self._methods.get(key)
        if frame is None:
            # basic.publish: reserved short, exchange, routing key, mandatory and immediate off
            arguments = (struct.pack(">H", 0) + shortstr(exchange) + shortstr(routing_key)
                         + b"\x00")
            frame = self._methods[key] = _frame(
                FRAME_METHOD, self.channel_id, struct.pack(">HH", *BASIC_PUBLISH) + arguments)
        return frame

    def message(self, exchange, routing_key, body, message_id, timestamp, message_type):
        """The frames of one publish, ready for the socket: method, header, body."""
        properties = b"".join((
            self._flags, self._before_message_id, shortstr(message_id),
            struct.pack(">Q", timestamp), shortstr(message_type), self._after_type))
        header = struct.pack(">HHQ", BASIC_CLASS, 0, len(body)) + properties
        parts = [self._method_frame(exchange, routing_key),
                 _frame(FRAME_HEADER, self.channel_id, header)]
        for start in range(0, len(body), self.body_chunk):
            parts.append(_frame(FRAME_BODY, self.channel_id,
                                body[start:start + self.body_chunk]))
        return b"".join(parts)
