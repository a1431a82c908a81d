"""Airflow's ``[core] hostname_callable`` for the stack harness: each process's own host name.

In the compose topology every container has its own host name, which Airflow records on each
task instance. The harness runs its processes on one machine, so each gets a name of its own
through ``NEWSWIRE_STACK_HOSTNAME`` (as a container gets ``HOSTNAME``).
"""

import os
import socket


def hostname() -> str:
    return os.environ.get("NEWSWIRE_STACK_HOSTNAME") or socket.getfqdn()
