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
