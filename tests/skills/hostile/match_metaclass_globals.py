# ruff: noqa
# expect: rejected
# message: `type\(\.\.\.\)` with other than one argument
# the audit's class pattern: a metaclass built with type() answers every isinstance
def run(api):
    M = type("M", (type,), {"_" * 2 + "instancecheck" + "_" * 2: lambda cls, obj: True})
    G = M("G", (), {"_" * 2 + "match_args" + "_" * 2: ("_" * 2 + "globals" + "_" * 2,)})
    match run:
        case G(g):
            g["os"].system("touch /tmp/mendako_pwned_match")
