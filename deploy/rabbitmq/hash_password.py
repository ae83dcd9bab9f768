#!/usr/bin/env python3
"""Compute a RabbitMQ password_hash for definitions.json.

Definitions import does not accept clear-text passwords, only "password_hash".
Algorithm rabbit_password_hashing_sha256 (RabbitMQ's default):
    base64( salt + sha256(salt + utf8(password)) ), salt = 4 random bytes.

Usage: python3 deploy/rabbitmq/hash_password.py 'my-password' [...]
"""
import base64
import hashlib
import os
import sys


def rabbit_sha256_hash(password: str, salt: bytes | None = None) -> str:
    salt = os.urandom(4) if salt is None else salt
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


def check(password: str, password_hash: str) -> bool:
    raw = base64.b64decode(password_hash)
    return rabbit_sha256_hash(password, raw[:4]) == password_hash


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for pw in sys.argv[1:]:
        print(rabbit_sha256_hash(pw))
