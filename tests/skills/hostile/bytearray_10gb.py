# ruff: noqa
# expect: memory
# limit: 8
def run(api):
    blob = bytearray(10**10)
    api.noop()
