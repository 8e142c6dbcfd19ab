# ruff: noqa
# expect: rejected
# message: metaclasses and class keywords are not allowed
class Base:
    pass


class A(Base, flag=1):
    pass


def run(api):
    print(A)
