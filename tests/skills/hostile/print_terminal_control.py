# ruff: noqa
# expect: ok
# stdout: \x1b\[2J
# the captured output is data; every view escapes it
def run(api):
    esc = chr(27)
    print(esc + "[2J" + esc + "[H" + esc + "]0;pwned" + chr(7) + "[/] achieved")
