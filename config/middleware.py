"""Content-Security-Policy on every response: scripts, styles, images and fonts from this site
only, no framing, forms posting only here.

Two inline event handlers are allowed by their hash ('unsafe-hashes'): the count sheet's Print
button and django-import-export's "select all" toggle on the admin export page. Style attributes
stay allowed: pages and the admin set a few (widths, margins), and they cannot run code.
"""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-hashes'"
        " 'sha256-MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU='"  # window.print()
        " 'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='",  # onSelectToggleChange(event)
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
