"""Consuming events: the inbox entrypoint (``consumer``) and its once-only machinery (``once``)."""
from .consumer import (
    ACCEPTED_CONTENT_TYPES, ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER, QUEUE_HEADER,
    TRANSIENT_HEADER, AckWindow, InboxConsumer, InboxHandler, consumer_queue_name,
    QUEUE_TYPE_CONFIG_KEY, dead_letter_queue_name, decode_event, inbox_handler, inbox_settings,
    is_transient, queue_arguments, queue_type, retry_queue_name,
)
from .once import GroupCommit, claim_in_inbox, inbox_table

__all__ = [
    "ACCEPTED_CONTENT_TYPES", "ATTEMPTS_HEADER", "ERROR_HEADER", "FAILED_AT_HEADER",
    "QUEUE_HEADER", "QUEUE_TYPE_CONFIG_KEY", "TRANSIENT_HEADER", "AckWindow", "GroupCommit",
    "InboxConsumer", "InboxHandler", "claim_in_inbox", "consumer_queue_name", "dead_letter_queue_name",
    "decode_event", "inbox_handler", "inbox_settings", "inbox_table", "is_transient",
    "queue_arguments", "queue_type", "retry_queue_name",
]
