# ruff: noqa
# expect: rejected
# message: `type\(\.\.\.\)` with other than one argument
from dataclasses import dataclass


def run(api):
    ns = {"_" * 2 + "annotations" + "_" * 2: {"x); import os #": int}}
    C = dataclass(type("C", (), ns))
    print(C)
