"""Taxi skill: drive the passenger (already aboard) to their destination and drop them off."""


def run(api):
    """Drive to the destination stand, then drop off."""
    if api.info["passenger"] != "taxi":
        raise RuntimeError("the passenger is not in the taxi")
    api.drive_to(api.info["destination"])
    api.drop_off()
