"""Login brute-force protection (django-axes) for every login that comes with a request."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend, quiet when there is no request to count against.

    Logins over HTTP (the admin login form, DRF's basic or session login) always pass
    the request, so they are counted and refused during the cool-off. Only in-process
    callers without a request (the test client's ``login()``, a shell) reach here with
    ``request=None``; axes would raise, so this backend stands aside and lets the next
    backend check the password as usual."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
