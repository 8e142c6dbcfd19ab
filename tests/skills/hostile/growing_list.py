# ruff: noqa
# expect: memory
# limit: 8
def run(api):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))
