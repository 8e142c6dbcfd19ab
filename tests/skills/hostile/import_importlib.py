# ruff: noqa
# expect: rejected
import importlib


def run(api):
    importlib.import_module("os").system("touch /tmp/mendako_pwned_importlib")
