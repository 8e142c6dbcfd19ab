# ruff: noqa
# expect: rejected
import subprocess


def run(api):
    subprocess.run(["touch", "/tmp/mendako_pwned_subprocess"])
