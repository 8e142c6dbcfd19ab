# ruff: noqa
# expect: rejected
import os


def run(api):
    os.system("touch /tmp/mendako_pwned_import_os")
