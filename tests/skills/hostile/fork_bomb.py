# ruff: noqa
# expect: rejected
import os


def run(api):
    while True:
        os.fork()
