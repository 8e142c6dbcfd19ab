# ruff: noqa
# expect: exception
import typing


def run(api):
    typing.sys.modules["os"].system("touch /tmp/mendako_pwned_typing")
