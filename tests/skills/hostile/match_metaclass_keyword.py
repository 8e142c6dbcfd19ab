# ruff: noqa
# expect: rejected
# message: metaclasses and class keywords are not allowed
class Base:
    pass


class G(Base, metaclass=type):
    pass


def run(api):
    print(G)
