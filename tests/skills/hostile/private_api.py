# ruff: noqa
# expect: rejected
def run(api):
    env = api._env
    env.reset()
