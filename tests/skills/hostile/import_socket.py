# ruff: noqa
# expect: rejected
import socket


def run(api):
    socket.create_connection(("example.com", 80))
