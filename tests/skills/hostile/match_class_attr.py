# ruff: noqa
# expect: rejected
def run(api):
    match api:
        case object(__class__=cls):
            print(cls)
