# ruff: noqa
# expect: exception
def run(api):
    obj = api.get_object()
    obj.do_anything()
