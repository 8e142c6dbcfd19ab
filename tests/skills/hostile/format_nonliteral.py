# ruff: noqa
# expect: rejected
def run(api):
    fmt = "{0." + "_" * 2 + "class" + "_" * 2 + "}"
    print(fmt.format(api))
