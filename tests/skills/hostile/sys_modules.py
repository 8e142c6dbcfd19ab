# ruff: noqa
# expect: rejected
import sys


def run(api):
    sys.modules["os"].system("touch /tmp/mendako_pwned_sys")
