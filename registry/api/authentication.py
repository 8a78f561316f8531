"""Token authentication for the REST API: `Authorization: Token <key>` or `Bearer <key>`.

django-rest-knox checks the key against the stored digest and drops expired tokens; this
class only accepts both header spellings and names the scheme in the 401 challenge.
"""

from knox.auth import TokenAuthentication
from rest_framework.authentication import get_authorization_header

SCHEMES = (b"token", b"bearer")


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None  # another scheme (or none): session authentication may apply
        if len(parts) != 2:
            return super().authenticate(request)  # knox's message for a malformed header
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            from rest_framework.exceptions import AuthenticationFailed

            raise AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)

    def authenticate_header(self, request) -> str:
        return "Token"
