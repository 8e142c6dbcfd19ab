# ruff: noqa
# expect: rejected
def run(api):
    with open("/tmp/mendako_pwned_write", "w") as f:
        f.write("pwned")
