# ruff: noqa
# expect: rejected
# message: subclassing `type` is not allowed
class M(type):
    def __instancecheck__(cls, obj):
        return True


def run(api):
    print(M)
