# ruff: noqa
# expect: rejected
# message: match on attribute '__self__'
# print.__self__ is the real builtins module
def run(api):
    match print:
        case object(__self__=real_builtins):
            real_builtins.open("/tmp/mendako_pwned_self", "w")
