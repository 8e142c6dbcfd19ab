# ruff: noqa
# expect: exception
def run(api):
    api.move_toward("x" * 10**7)
