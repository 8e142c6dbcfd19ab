"""Taxi skill: drive to the passenger's stand and pick them up."""


def run(api):
    """Drive the shortest way to the passenger, then pick up."""
    stand = api.info["passenger"]
    if stand == "taxi":
        raise RuntimeError("the passenger is already in the taxi")
    api.drive_to(stand)
    api.pick_up()
