# ruff: noqa
# expect: memory
def run(api):
    blob = bytearray(10**10)
    api.noop()
