"""Taxi skill: the whole ride from anywhere (a composition of the two primitives' routes)."""


def run(api):
    """Pick the passenger up unless aboard, then drive them to their destination."""
    if api.info["passenger"] != "taxi":
        api.drive_to(api.info["passenger"])
        api.pick_up()
    api.drive_to(api.info["destination"])
    api.drop_off()
