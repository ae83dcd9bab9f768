#!/usr/bin/env python3
"""A RabbitMQ cluster of three nodes on this machine, beside the machine's own broker: each node
with its own name, ports, config file and data folder, joined into one cluster. The fault
suite runs the network on it with quorum queues and kills the node leading them.

    python scripts/rabbitmq_cluster.py start [--folder DIR]   # prints the AMQP URI to use
    python scripts/rabbitmq_cluster.py stop  [--folder DIR]

Node n (1, 2, 3) is parcours<n>@localhost, AMQP on 5672+n, management on 15672+n, Prometheus
on 15692+n, distribution on 25672+n; its data, logs and pid file under DIR/n<n>/. The nodes
are started as the current user with RabbitMQ's own scripts (not the package's wrapper, which
would switch to the rabbitmq user), so they share this user's Erlang cookie.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

import requests

BIN = "/usr/lib/rabbitmq/bin"
NODES = 3
DEFAULT_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "data", "rabbitmq-cluster")
CONFIG = """listeners.tcp.default = 127.0.0.1:{amqp}
management.tcp.port = {management}
prometheus.tcp.port = {prometheus}
loopback_users = none
"""


class ClusterError(Exception):
    pass


def available():
    return os.path.exists(os.path.join(BIN, "rabbitmq-server"))


class Node:
    def __init__(self, folder, number):
        self.number = number
        self.name = "parcours{}@localhost".format(number)
        self.amqp_port = 5672 + number
        self.management_port = 15672 + number
        self.folder = os.path.join(folder, "n{}".format(number))
        self.pid_file = os.path.join(self.folder, "pid")

    @property
    def amqp_uri(self):
        return "pyamqp://guest:guest@127.0.0.1:{}".format(self.amqp_port)

    @property
    def management_url(self):
        return "http://guest:guest@127.0.0.1:{}".format(self.management_port)

    def env(self):
        return dict(os.environ, RABBITMQ_NODENAME=self.name,
                    RABBITMQ_NODE_PORT=str(self.amqp_port),
                    RABBITMQ_DIST_PORT=str(20000 + self.amqp_port),
                    RABBITMQ_CONFIG_FILE=os.path.join(self.folder, "rabbitmq.conf"),
                    RABBITMQ_MNESIA_BASE=os.path.join(self.folder, "mnesia"),
                    RABBITMQ_LOG_BASE=os.path.join(self.folder, "log"),
                    RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.folder, "enabled_plugins"),
                    RABBITMQ_PID_FILE=self.pid_file)

    def ctl(self, *args, check=True, timeout=120):
        result = subprocess.run([os.path.join(BIN, "rabbitmqctl"), "-n", self.name, *args],
                                env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise ClusterError("rabbitmqctl {} on {} failed: {}".format(
                " ".join(args), self.name, (result.stderr or result.stdout)[-800:]))
        return result.stdout

    def prepare(self):
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.folder, sub), exist_ok=True)
        with open(os.path.join(self.folder, "rabbitmq.conf"), "w") as config:
            config.write(CONFIG.format(amqp=self.amqp_port, management=self.management_port,
                                       prometheus=15692 + self.number))
        with open(os.path.join(self.folder, "enabled_plugins"), "w") as plugins:
            plugins.write("[rabbitmq_management,rabbitmq_prometheus].\n")

    def start(self):
        """Start the node (its data kept from before, if any) and wait until it runs."""
        self.prepare()
        subprocess.run([os.path.join(BIN, "rabbitmq-server"), "-detached"], env=self.env(),
                       check=True, capture_output=True)
        self.ctl("wait", self.pid_file, "--timeout", "90")

    def pid(self):
        try:
            with open(self.pid_file) as pid:
                return int(pid.read().strip())
        except (OSError, ValueError):
            return None

    def running(self):
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True

    def kill(self):
        """kill -9 of the node's Erlang VM: no goodbye to its peers nor to its clients."""
        pid = self.pid()
        if pid is not None and self.running():
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.1)

    def stop(self):
        if self.running():
            self.ctl("stop", check=False, timeout=60)
        self.kill()


class Cluster:
    def __init__(self, folder=DEFAULT_FOLDER, nodes=NODES):
        self.folder = folder
        self.nodes = [Node(folder, number) for number in range(1, nodes + 1)]

    @property
    def amqp_uri(self):
        """Every node's address: the services fail over from one to the next."""
        return ";".join(node.amqp_uri for node in self.nodes)

    def start(self, progress=print):
        """A new cluster: every node started from empty folders, the others joined to the
        first."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        first = self.nodes[0]
        for node in self.nodes:
            progress("==> starting RabbitMQ node {} (AMQP {})".format(node.name, node.amqp_port))
            node.start()
            if node is not first:
                node.ctl("stop_app")
                node.ctl("join_cluster", first.name)
                node.ctl("start_app")
        running = self.running_nodes()
        if len(running) != len(self.nodes):
            raise ClusterError("the cluster runs {}, not {} nodes".format(running,
                                                                       len(self.nodes)))
        return self

    def running_nodes(self, via=None):
        """The nodes the cluster says run, as one node's management API tells it."""
        via = via or next(node for node in self.nodes if node.running())
        answer = requests.get(via.management_url.replace("guest:guest@", "") + "/api/nodes",
                              auth=("guest", "guest"), timeout=10)
        answer.raise_for_status()
        return sorted(node["name"] for node in answer.json() if node["running"])

    def stop(self):
        for node in reversed(self.nodes):
            node.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--folder", default=DEFAULT_FOLDER)
    args = parser.parse_args()
    cluster = Cluster(args.folder)
    try:
        if args.command == "start":
            cluster.start()
            print("cluster of {} nodes up: AMQP_URI={}".format(len(cluster.nodes),
                                                               cluster.amqp_uri))
        else:
            cluster.stop()
    except (ClusterError, subprocess.CalledProcessError, OSError) as exc:
        print("rabbitmq_cluster: {}".format(exc), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
