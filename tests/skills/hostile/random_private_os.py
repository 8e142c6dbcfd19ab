# ruff: noqa
# expect: rejected
import random


def run(api):
    random._os.system("touch /tmp/mendako_pwned_random")
