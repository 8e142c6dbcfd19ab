# ruff: noqa
# expect: rejected
# message: `from typing import get_type_hints` is not allowed
from typing import get_type_hints


def run(api):
    print(get_type_hints(run))
