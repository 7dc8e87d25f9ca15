"""The few error types the product raises. Each carries one clear line for the user."""


class TryOnError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(TryOnError):
    """A file, frame, request or argument that cannot be used as given."""


class UnknownItemError(InputError):
    """An item id that is not in the catalog."""


class AssetError(TryOnError):
    """A jewelry asset that is missing or malformed."""


class TrackingError(TryOnError):
    """The tracker could not run (not: no face found, which is an empty result)."""


class RenderError(TryOnError):
    """The renderer could not start or draw."""
