# ruff: noqa
# expect: rejected
def run(api):
    imp = getattr(__builtins__, "__import__")
    imp("os").system("touch /tmp/mendako_pwned_getattr")
