# ruff: noqa
# expect: rejected
def run(api):
    __import__("os").system("touch /tmp/mendako_pwned_dunder_import")
