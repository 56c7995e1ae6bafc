"""A Content-Security-Policy header on every answer (Django 5.2 has none built in).

The policy itself is the CONTENT_SECURITY_POLICY setting; a view that needs another one
sets the header itself and is left alone.
"""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(
            " ".join([directive, *sources])
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
