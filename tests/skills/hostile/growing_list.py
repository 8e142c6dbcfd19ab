# ruff: noqa
# expect: memory
def run(api):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))
