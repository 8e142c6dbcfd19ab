# ruff: noqa
# expect: ok
# the ordinary decorator use stays allowed
import functools


def run(api):
    @functools.wraps(run)
    def inner():
        return 1

    assert inner() == 1
