# ruff: noqa
# expect: rejected
# message: dunder attribute '__self__'
def run(api):
    real = print.__self__
    real.open("/tmp/mendako_pwned_self", "w")
