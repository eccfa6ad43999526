"""A free TCP port on the loopback, for a server a test starts (a registry,
a broker, QEMU's host forward). The port is free when asked; the caller
binds it at once."""
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
