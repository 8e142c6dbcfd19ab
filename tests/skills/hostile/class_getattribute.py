# ruff: noqa
# expect: rejected
class Sneaky:
    def __getattribute__(self, name):
        return name


def run(api):
    Sneaky()
