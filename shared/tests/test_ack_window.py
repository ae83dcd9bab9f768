"""AckWindow: one multiple ack for the settled messages at the head of a queue's channel, never
covering a message still in progress."""
from parcours_shared.inbox import AckWindow


class RecordingChannel:
    def __init__(self, fails_with=None):
        self.acks = []
        self.fails_with = fails_with

    def basic_ack(self, delivery_tag, multiple=False):
        if self.fails_with:
            raise self.fails_with
        self.acks.append((delivery_tag, multiple))


class Delivery:
    def __init__(self, channel, delivery_tag):
        self.channel, self.delivery_tag = channel, delivery_tag


def window_with(count, channel=None):
    channel = channel or RecordingChannel()
    window = AckWindow(channel)
    messages = [Delivery(channel, tag) for tag in range(1, count + 1)]
    for message in messages:
        window.delivered(message)
    return window, channel, messages


def test_a_settled_batch_is_acked_with_one_multiple_ack():
    window, channel, messages = window_with(5)
    for message in messages:
        window.settled(message, AckWindow.ACKED)
    window.flush()
    assert channel.acks == [(5, True)]
    window.flush()
    assert channel.acks == [(5, True)]  # nothing settled since: nothing sent


def test_the_ack_stops_before_a_message_still_in_progress():
    window, channel, messages = window_with(6)
    in_progress = messages[2]  # say, an invalid message whose dead-letter copy is not confirmed
    for message in messages:
        if message is not in_progress:
            window.settled(message, AckWindow.ACKED)
    window.flush()
    assert channel.acks == [(2, True)]
    window.settled(in_progress, AckWindow.ACKED)
    window.flush()
    assert channel.acks == [(2, True), (6, True)]


def test_a_requeued_message_is_passed_over_but_never_acked():
    window, channel, messages = window_with(4)
    window.settled(messages[0], AckWindow.ACKED)
    window.settled(messages[1], AckWindow.REQUEUED)
    window.settled(messages[2], AckWindow.ACKED)
    window.settled(messages[3], AckWindow.REQUEUED)
    window.flush()
    assert channel.acks == [(3, True)]  # covers 2, rejected already; not 4


def test_only_messages_of_its_own_channel_belong_to_it():
    window, channel, messages = window_with(1)
    assert window.holds(messages[0])
    assert not window.holds(Delivery(RecordingChannel(), 1))  # a channel since replaced


def test_an_ack_on_a_lost_connection_is_dropped_for_the_broker_to_redeliver(caplog):
    window, channel, messages = window_with(2, RecordingChannel(
        fails_with=ConnectionResetError(104, "Connection reset by peer")))
    for message in messages:
        window.settled(message, AckWindow.ACKED)
    window.flush()  # logged, not raised
    [warning] = [r for r in caplog.records if "could not ack messages up to delivery 2" in
                 r.getMessage()]
    assert "will deliver them again" in warning.getMessage()
    # dropped, not kept to be acked again on a channel that is gone
    channel.fails_with = None
    window.flush()
    assert channel.acks == []
