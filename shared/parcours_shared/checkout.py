"""Where this library runs from, when it runs from a Parcours checkout (``make setup`` installs
it editable): the development tools find the checkout's ``data/`` and ``tools/`` there."""
import os

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def checkout_path(*parts):
    """``parts`` joined under the checkout, or None when the library is installed elsewhere
    (a service's image)."""
    if not os.path.isdir(os.path.join(_ROOT, "services")):
        return None
    return os.path.join(_ROOT, *parts)


def data_path(path):
    """A service's relative data path (``data/intake.sqlite3``, ``data/issuer/jwks.json``) made
    absolute: under ``$PARCOURS_HOME`` if set; else under the checkout when the service runs
    from one, so that it is the same file from whatever folder the service was started; else
    under the current folder (an image runs from its working directory). Absolute paths are
    kept."""
    if os.path.isabs(path):
        return path
    return os.path.join(os.environ.get("PARCOURS_HOME") or checkout_path() or os.getcwd(), path)
