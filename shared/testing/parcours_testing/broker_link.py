"""A TCP link to the broker that a test can cut and restore: a broker outage seen from one
service, without stopping the broker the rest of the suite uses. (Real broker restarts are the
fault suite's job: tests/faults.)"""
import socket
from urllib.parse import urlparse

import eventlet


class BrokerLink:
    def __init__(self, amqp_uri):
        parsed = urlparse(amqp_uri)
        self.upstream = (parsed.hostname, parsed.port or 5672)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        port = self.listener.getsockname()[1]
        self.amqp_uri = parsed._replace(netloc="{}@127.0.0.1:{}".format(
            parsed.netloc.rsplit("@", 1)[0], port)).geturl()
        self.up = True
        self.open_sockets = set()
        self._pumps = eventlet.GreenPool()
        self._acceptor = eventlet.spawn(self._accept)

    def cut(self):
        """Drop every connection and refuse new ones until ``restore``.

        Sockets are only shut down here: each pump closes its own, in its own greenthread
        (closing a socket another greenthread waits on confuses eventlet's hub once the file
        descriptor is reused)."""
        self.up = False
        for sock in list(self.open_sockets):
            _shutdown(sock)

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self._pumps.waitall()
        self._acceptor.kill()
        self.listener.close()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            if not self.up:
                _shutdown(client)
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self.open_sockets |= {client, server}
            self._pumps.spawn(self._pump, client, server)
            self._pumps.spawn(self._pump, server, client)

    def _pump(self, source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            # wake the opposite pump, which then closes its own source
            _shutdown(target)
            self.open_sockets.discard(source)
            source.close()


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
